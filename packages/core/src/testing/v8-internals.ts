import { setFlagsFromString } from 'node:v8';

// Test support only (not exported from the testing entry): what V8 made of a value, through its
// own natives (`%HaveSameMap`, `%IsSmi`), which need the flag set before they are compiled.
setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const isSmi = new Function('value', 'return %IsSmi(value)') as (value: number) => boolean;

/** Whether V8 gave two objects the same hidden class. */
export function sameHiddenClass(a: object, b: object): boolean {
  return haveSameMap(a, b);
}

/** Whether a number is held unboxed (a Smi), not in a heap number of its own. */
export function isUnboxed(value: number): boolean {
  return isSmi(value);
}
