// Finds where a JSON text stops being valid (RFC 8259 grammar), for error messages: V8's
// JSON.parse messages do not always carry a position. Only called after JSON.parse failed;
// iterative (an explicit stack), so hostile nesting cannot overflow the call stack. Pure.

const WS = new Set([' ', '\t', '\n', '\r']);

/** Offset of the first character that cannot continue a valid JSON text (length at EOF). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const stack: Array<'{' | '['> = [];
  const skipWs = (): void => {
    while (i < text.length && WS.has(text[i] ?? '')) i++;
  };
  // Parses one scalar at i; returns false on error (i then points at the bad character).
  const scalar = (): boolean => {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length) {
        const ch = text[i] ?? '';
        if (ch === '"') {
          i++;
          return true;
        }
        if (ch < ' ') return false;
        if (ch === '\\') {
          const e = text[i + 1] ?? '';
          if (e === 'u') {
            if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return ((i += 2), false);
            i += 6;
            continue;
          }
          if (!'"\\/bfnrt'.includes(e) || e === '') return ((i += 1), false);
          i += 2;
          continue;
        }
        i++;
      }
      return false;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return true;
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m !== null && m[0] !== '' && m[0] !== '-') {
      i += m[0].length;
      return true;
    }
    return false;
  };
  // States: expecting a value; after a value (expecting , or a closer).
  let wantValue = true;
  for (;;) {
    skipWs();
    if (i >= text.length) return stack.length === 0 && !wantValue ? i : text.length;
    const c = text[i];
    if (wantValue) {
      if (c === '{' || c === '[') {
        stack.push(c);
        i++;
        skipWs();
        const close = c === '{' ? '}' : ']';
        if (text[i] === close) {
          stack.pop();
          i++;
          wantValue = false;
          continue;
        }
        if (c === '{') {
          if (text[i] !== '"' || !scalar()) return i;
          skipWs();
          if (text[i] !== ':') return i;
          i++;
        }
        continue;
      }
      if (!scalar()) return i;
      wantValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i; // trailing garbage after a complete value
    if (c === ',') {
      i++;
      if (top === '{') {
        skipWs();
        if (text[i] !== '"' || !scalar()) return i;
        skipWs();
        if (text[i] !== ':') return i;
        i++;
      }
      wantValue = true;
      continue;
    }
    if ((top === '{' && c === '}') || (top === '[' && c === ']')) {
      stack.pop();
      i++;
      continue;
    }
    return i;
  }
}
