/**
 * Shell-like splitting of the job form's argument line into argv words (a small subset of POSIX sh quoting):
 * - blanks (space, tab, newline) separate words; runs of blanks count once;
 * - '...' keeps everything literally, backslashes included;
 * - "..." keeps blanks; inside, a backslash escapes only `"` and `\` (otherwise it stays as written);
 * - outside quotes, a backslash makes the next character literal (a trailing lone backslash is kept);
 * - quotes join with adjacent text (`a"b c"d` is one word `ab cd`), and `''` or `""` alone is an empty word.
 * No variables, globs or command substitution: the words go to the guest verbatim. `joinArgs` is the inverse.
 */
import { accept, reject, type Decoded } from '../core/errors.ts';

const BLANK = /[ \t\r\n]/;

export function splitArgs(line: string): Decoded<string[]> {
  const words: string[] = [];
  let word = '';
  // A word exists once any character or quote pair has been seen, so `""` yields an empty argument.
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (BLANK.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return reject('E_ARGS_UNCLOSED_QUOTE', `single quote opened at column ${i + 1} is never closed`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < line.length) {
        const d = line[j] as string;
        if (d === '"') {
          closed = true;
          break;
        }
        const next = line[j + 1];
        if (d === '\\' && (next === '"' || next === '\\')) {
          word += next;
          j += 2;
        } else {
          word += d;
          j += 1;
        }
      }
      if (!closed) return reject('E_ARGS_UNCLOSED_QUOTE', `double quote opened at column ${i + 1} is never closed`);
      inWord = true;
      i = j + 1;
    } else if (c === '\\') {
      word += line[i + 1] ?? '\\';
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return accept(words);
}

/** The inverse of splitArgs: a line that splits back into exactly `words` (words needing it are single-quoted). */
export function joinArgs(words: readonly string[]): string {
  return words.map(quoteWord).join(' ');
}

function quoteWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  // Inside single quotes everything is literal, so a single quote itself is closed, escaped, and reopened.
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
