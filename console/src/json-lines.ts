/**
 * The line each value of a JSON text starts on, by the path the rules API names problems with
 * (`rules[2].when.header`), so that a problem is shown at its line. Tolerant: on text that is
 * not JSON it returns what it read so far.
 */
export function jsonPathLines(text: string): Map<string, number> {
  return scan(text).lines;
}

/** The lines by path, and the line the reading stopped at (where text that is not JSON breaks). */
function scan(text: string): { lines: Map<string, number>; stopLine: number; complete: boolean } {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  let failed = false;
  const fail = () => {
    failed = true;
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) {
      if (text[i] === '\n') line++;
      i++;
    }
  };
  const readString = (): string => {
    let out = '';
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        out += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (text[i] === '\n') line++;
      out += text[i++];
    }
    i++;
    try {
      return JSON.parse(`"${out}"`) as string;
    } catch {
      return out;
    }
  };
  const value = (path: string): void => {
    skip();
    lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i++;
      skip();
      while (i < text.length && text[i] !== '}') {
        skip();
        if (text[i] !== '"') return fail();
        const keyLine = line;
        const key = readString();
        const child = path ? `${path}.${key}` : key;
        skip();
        if (text[i] !== ':') return fail();
        i++;
        value(child);
        lines.set(child, keyLine);
        if (failed) return;
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') return fail();
        skip();
      }
      i++;
    } else if (c === '[') {
      i++;
      skip();
      let index = 0;
      while (i < text.length && text[i] !== ']') {
        value(`${path}[${index++}]`);
        if (failed) return;
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') return fail();
        skip();
      }
      i++;
    } else if (c === '"') {
      readString();
    } else {
      const from = i;
      while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
      if (!/^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(text.slice(from, i))) fail();
    }
  };
  value('');
  if (!failed) skip();
  return { lines, stopLine: line, complete: i >= text.length };
}

/**
 * The line of a problem's path, or of its nearest parent that is in the text; 1 otherwise. An
 * unknown key is named at its object's path by the API: its own line is the one to show.
 */
export function lineOf(lines: Map<string, number>, path: string, message = ''): number {
  const unknown = /unknown key "([^"]+)"/.exec(message);
  const key = unknown && lines.get(path ? `${path}.${unknown[1]}` : unknown[1]);
  if (key) return key;
  let at = path;
  while (at) {
    const found = lines.get(at);
    if (found !== undefined) return found;
    const cut = Math.max(at.lastIndexOf('.'), at.lastIndexOf('['));
    if (cut <= 0) break;
    at = at.slice(0, cut);
  }
  return lines.get(at) ?? 1;
}

/** Where JSON.parse stopped, as a line number, from its message or position. */
export function syntaxErrorLine(text: string, error: Error): number {
  const lineMatch = /line (\d+)/.exec(error.message);
  if (lineMatch) return Number(lineMatch[1]);
  const position = /position (\d+)/.exec(error.message);
  if (position) return text.slice(0, Number(position[1])).split('\n').length;
  // Older engines name neither: where our own reading of it stopped.
  return scan(text).stopLine;
}

/** "Name: value" lines, as one pastes them from a SIP trace, into the API's header list. */
export function parseHeaderLines(text: string): { name: string; value: string }[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !/^(INVITE|SIP\/2\.0)\b/i.test(line))
    .map((line) => {
      const colon = line.indexOf(':');
      return colon < 0
        ? { name: line, value: '' }
        : { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
    });
}
