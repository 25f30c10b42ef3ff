// Where a field the API names ("rules[2].action.formula") is in the JSON
// text a marketer is typing, so its error can be shown at that place.

export type Span = { from: number; to: number };

// spans maps every value's path to its span in text. It tolerates nothing:
// on malformed JSON it returns what it read before the error.
export function spans(text: string): Map<string, Span> {
  const out = new Map<string, Span>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = () => {
    // i is at the opening quote
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) throw new Error('unterminated string');
    i++;
  };
  const value = (path: string) => {
    ws();
    const from = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else
        for (;;) {
          ws();
          if (text[i] !== '"') throw new Error('expected a key');
          const ks = i;
          str();
          const key = JSON.parse(text.slice(ks, i)) as string;
          ws();
          if (text[i] !== ':') throw new Error('expected :');
          i++;
          value(path ? `${path}.${key}` : key);
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === '}') {
            i++;
            break;
          }
          throw new Error('expected , or }');
        }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else
        for (let n = 0; ; n++) {
          value(`${path}[${n}]`);
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ']') {
            i++;
            break;
          }
          throw new Error('expected , or ]');
        }
    } else if (c === '"') {
      str();
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) throw new Error('unexpected character');
      i += m[0].length;
    }
    out.set(path, { from, to: i });
  };
  try {
    value('');
  } catch {
    // partial map: fields before the mistake still place their errors
  }
  return out;
}

// locate finds the span of field in text: the value itself, or the nearest
// enclosing value the text has (a missing field is reported at its parent).
// A position inside a string value (a formula's column) narrows the span to
// the word starting there ("bonus" in "$.amount * bonus").
export function locate(text: string, field: string, position?: number): Span {
  const all = spans(text);
  let path = field;
  for (;;) {
    const s = all.get(path);
    if (s) {
      if (position !== undefined && path === field && text[s.from] === '"') {
        const at = stringOffset(text, s.from, position);
        let end = at;
        while (end < s.to - 1 && /[\w$.]/.test(text[end])) end++;
        return { from: at, to: Math.min(Math.max(end, at + 1), s.to - 1) };
      }
      return s;
    }
    if (path === '') return { from: 0, to: Math.min(1, text.length) };
    path = parent(path);
  }
}

function parent(path: string): string {
  const dot = path.lastIndexOf('.');
  const br = path.lastIndexOf('[');
  const cut = Math.max(dot, br);
  return cut <= 0 ? '' : path.slice(0, cut);
}

// stringOffset is the text offset of the nth decoded character of the JSON
// string starting at quote (escapes count as one character).
function stringOffset(text: string, quote: number, n: number): number {
  let i = quote + 1;
  for (let k = 0; k < n && i < text.length && text[i] !== '"'; k++) {
    if (text[i] === '\\') i += text[i + 1] === 'u' ? 6 : 2;
    else i++;
  }
  return i;
}
