import { describe, it, expect } from 'vitest';
import { joinArgs, splitArgs } from '../../src/ui/split-args.ts';

function words(line: string): string[] {
  const result = splitArgs(line);
  if (!result.ok) throw new Error(`${result.code}: ${result.reason}`);
  return result.value;
}

describe('splitArgs', () => {
  it('splits on runs of blanks and ignores leading and trailing blanks', () => {
    expect(words('  from   nephele\t--n 3\n')).toEqual(['from', 'nephele', '--n', '3']);
  });

  it('gives no words for an empty or blank line', () => {
    expect(words('')).toEqual([]);
    expect(words(' \t ')).toEqual([]);
  });

  it('keeps blanks inside single and double quotes', () => {
    expect(words(`echo 'a  b' "c d"`)).toEqual(['echo', 'a  b', 'c d']);
  });

  it('joins quoted parts with adjacent text into one word', () => {
    expect(words(`a"b c"d'e f'g`)).toEqual(['ab cde fg']);
    expect(words(`--name="Ada Lovelace"`)).toEqual(['--name=Ada Lovelace']);
  });

  it('turns a lone pair of quotes into an empty argument', () => {
    expect(words(`a "" b ''`)).toEqual(['a', '', 'b', '']);
  });

  it('takes single-quoted text literally, backslashes and double quotes included', () => {
    expect(words(`'a\\b "c"'`)).toEqual(['a\\b "c"']);
  });

  it('unescapes only \\" and \\\\ inside double quotes', () => {
    expect(words(`"say \\"hi\\" \\\\ \\n"`)).toEqual(['say "hi" \\ \\n']);
  });

  it('makes the next character literal after a backslash outside quotes', () => {
    expect(words(`a\\ b c\\'d \\"`)).toEqual(['a b', "c'd", '"']);
  });

  it('keeps a trailing lone backslash', () => {
    expect(words('end\\')).toEqual(['end\\']);
  });

  it('keeps non-ASCII text intact', () => {
    expect(words('νεφέλη "☁ cloud"')).toEqual(['νεφέλη', '☁ cloud']);
  });

  it('rejects an unclosed quote with a named code instead of guessing', () => {
    const single = splitArgs(`ok 'never closed`);
    expect(single.ok).toBe(false);
    if (!single.ok) expect(single.code).toBe('E_ARGS_UNCLOSED_QUOTE');
    const double = splitArgs(`"also open`);
    expect(double.ok).toBe(false);
    if (!double.ok) {
      expect(double.code).toBe('E_ARGS_UNCLOSED_QUOTE');
      expect(double.reason).toContain('column 1');
    }
  });
});

describe('joinArgs', () => {
  it('leaves plain words bare', () => {
    expect(joinArgs(['from', 'the', 'cloud', '--n=3', './a.txt'])).toBe('from the cloud --n=3 ./a.txt');
  });

  it('gives a line that splits back into the same words, however awkward they are', () => {
    const awkward = ['', 'two words', "it's", 'say "hi"', 'back\\slash', 'tab\there', '$HOME', '*', 'νεφέλη', "'", '\n'];
    const line = joinArgs(awkward);
    expect(words(line)).toEqual(awkward);
  });

  it('gives an empty line for no words', () => {
    expect(joinArgs([])).toBe('');
  });
});
