import { setFlagsFromString } from 'node:v8';

// Test support only (not exported from the testing entry): whether V8 gave two objects the same
// hidden class, through its own `%HaveSameMap`, which needs the flag set before it is compiled.
setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

export function sameHiddenClass(a: object, b: object): boolean {
  return haveSameMap(a, b);
}
