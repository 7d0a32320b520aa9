export { ConflictError, isConflictError } from './errors';
export type { ConflictErrorCode } from './errors';
export { emptyVector, increment, merge, compare, dominates, equal } from './version-vector';
export type { VersionVector, Ordering } from './version-vector';
export { conflictPolicies, resolve, sameContent } from './resolve';
export type { ConflictPolicy, Resolvable, ResolutionKind, Resolution } from './resolve';
export { conflictName, isConflictName } from './conflict-name';
