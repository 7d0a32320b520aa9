import { describe, expect, it } from 'vitest';
import { ByteBudget } from './byte-budget';

const nextTurn = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));

describe('ByteBudget', () => {
  it('hands bytes out in the order they were asked for, as room frees up', async () => {
    const budget = new ByteBudget(10);
    const granted: string[] = [];
    const ask = (name: string, bytes: number): Promise<void> => budget.acquire(bytes).then(() => void granted.push(name));
    void ask('a', 6);
    void ask('b', 6);
    // Would fit beside `a`, but `b` asked first.
    void ask('c', 2);
    await nextTurn();
    expect(granted).toEqual(['a']);
    budget.release(6);
    await nextTurn();
    expect(granted).toEqual(['a', 'b', 'c']);
  });

  it('gives a request larger than the whole budget all of it, once the rest is back', async () => {
    const budget = new ByteBudget(10);
    const granted: string[] = [];
    await budget.acquire(4);
    void budget.acquire(25).then(() => granted.push('large'));
    void budget.acquire(1).then(() => granted.push('small'));
    await nextTurn();
    expect(granted).toEqual([]);
    budget.release(4);
    await nextTurn();
    expect(granted).toEqual(['large']);
    budget.release(25);
    await nextTurn();
    expect(granted).toEqual(['large', 'small']);
  });
});
