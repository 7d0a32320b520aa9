import { describe, expect, it } from 'vitest';
import { IgnoreRules } from './ignore-rules';

describe('IgnoreRules', () => {
  it('matches gitignore patterns at any depth', () => {
    const rules = IgnoreRules.fromText('*.log\nnode_modules\n');
    expect(rules.isIgnored('a.log', false)).toBe(true);
    expect(rules.isIgnored('deep/er/b.log', false)).toBe(true);
    expect(rules.isIgnored('node_modules', true)).toBe(true);
    expect(rules.isIgnored('pkg/node_modules/x/index.js', false)).toBe(true);
    expect(rules.isIgnored('a.txt', false)).toBe(false);
  });

  it('applies a dir/ rule to directories and everything in them, not to files of that name', () => {
    const rules = IgnoreRules.fromText('build/\n');
    expect(rules.isIgnored('build', true)).toBe(true);
    expect(rules.isIgnored('build/out/app.js', false)).toBe(true);
    expect(rules.isIgnored('src/build', true)).toBe(true);
    expect(rules.isIgnored('build', false)).toBe(false);
  });

  it('honours negation, anchoring, ** and comments', () => {
    const rules = IgnoreRules.fromText('# a comment\n*.log\n!keep.log\n/root-only.txt\ndocs/**/*.tmp\n');
    expect(rules.isIgnored('keep.log', false)).toBe(false);
    expect(rules.isIgnored('sub/keep.log', false)).toBe(false);
    expect(rules.isIgnored('other.log', false)).toBe(true);
    expect(rules.isIgnored('root-only.txt', false)).toBe(true);
    expect(rules.isIgnored('sub/root-only.txt', false)).toBe(false);
    expect(rules.isIgnored('docs/a/b/c.tmp', false)).toBe(true);
    expect(rules.isIgnored('c.tmp', false)).toBe(false);
    expect(rules.isIgnored('# a comment', false)).toBe(false);
  });

  it('cannot re-include a file whose directory is excluded (as git)', () => {
    const rules = IgnoreRules.fromText('build/\n!build/keep.js\n');
    expect(rules.isIgnored('build/keep.js', false)).toBe(true);
  });

  it('is case-sensitive', () => {
    const rules = IgnoreRules.fromText('*.LOG\n');
    expect(rules.isIgnored('a.LOG', false)).toBe(true);
    expect(rules.isIgnored('a.log', false)).toBe(false);
  });

  it('compares in NFC, whichever form rules and paths use', () => {
    const nfd = 'Cafe\u0301';
    const nfc = 'Caf\u00e9';
    expect(IgnoreRules.fromText(`${nfd}/\n`).isIgnored(`${nfc}/menu.txt`, false)).toBe(true);
    expect(IgnoreRules.fromText(`${nfc}.txt\n`).isIgnored(`${nfd}.txt`, false)).toBe(true);
  });

  it('accepts CRLF line endings and a byte-order mark', () => {
    const rules = IgnoreRules.fromText('\uFEFF*.tmp\r\nsecret.txt\r\n');
    expect(rules.isIgnored('x.tmp', false)).toBe(true);
    expect(rules.isIgnored('secret.txt', false)).toBe(true);
  });

  it('tolerates ./ and trailing slashes, and never ignores the root or paths outside it', () => {
    const rules = IgnoreRules.fromText('*\n');
    expect(rules.isIgnored('./a.txt', false)).toBe(true);
    expect(rules.isIgnored('dir/', true)).toBe(true);
    for (const outside of ['', '.', './', '../x', '/abs/path', '..']) expect(rules.isIgnored(outside, false)).toBe(false);
  });

  it('ignores nothing without rules', () => {
    const rules = IgnoreRules.fromText('');
    expect(rules.isIgnored('anything', false)).toBe(false);
    expect(rules.isIgnored('.sync', true)).toBe(false);
    expect(rules.text).toBe('');
  });

  it('treats a file of comments and blank lines as no rules, and an escaped # as a pattern', () => {
    const comments = IgnoreRules.fromText('# build output\n\n   \r\n#*.log\n');
    expect(comments.isIgnored('x.log', false)).toBe(false);
    expect(comments.isIgnored('build', true)).toBe(false);
    const escaped = IgnoreRules.fromText('\\#notes\n');
    expect(escaped.isIgnored('#notes', false)).toBe(true);
  });
});
