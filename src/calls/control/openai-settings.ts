import { validateHeaderName, validateHeaderValue } from 'node:http';
import { ConfigError } from '../../config/switchboard.config';

/**
 * What the official SDK reads from the environment for a request, read once the same way:
 * the base URL when none is given (`OPENAI_BASE_URL`, else OpenAI's), and the headers it adds
 * to every request: `OpenAI-Organization` (`OPENAI_ORG_ID`), `OpenAI-Project`
 * (`OPENAI_PROJECT_ID`) and `OPENAI_CUSTOM_HEADERS` (`Name: value` lines, which win over the
 * others, auth included, as in the SDK). Names are lower-cased: one value per header.
 */
export function openaiRequestSettings(
  baseURL: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { baseURL: string; headers: Record<string, string> } {
  const read = (name: string) => env[name]?.trim() || undefined;
  const headers: Record<string, string> = {};
  const organization = read('OPENAI_ORG_ID');
  const project = read('OPENAI_PROJECT_ID');
  if (organization) headers['openai-organization'] = organization;
  if (project) headers['openai-project'] = project;
  for (const line of (read('OPENAI_CUSTOM_HEADERS') ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon >= 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  checkHeaders(headers, {
    'openai-organization': 'OPENAI_ORG_ID',
    'openai-project': 'OPENAI_PROJECT_ID',
  });
  return {
    baseURL: baseURL || read('OPENAI_BASE_URL') || 'https://api.openai.com/v1',
    headers,
  };
}

/**
 * Every header is checked once, at start-up: one that no request could carry would otherwise
 * fail each call's control request, found only when a phone rings. The value is not repeated
 * (it may be a secret); `sources` names the variable a header came from, if not the list.
 */
function checkHeaders(headers: Record<string, string>, sources: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    const from = sources[name] ?? 'OPENAI_CUSTOM_HEADERS';
    try {
      validateHeaderName(name);
    } catch {
      throw new ConfigError(
        `${from} names a header that cannot be sent: "${name}" is not a header name`,
      );
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      throw new ConfigError(
        `${from}: the value of ${name} holds a character a header cannot carry (a control character or one beyond Latin-1)`,
      );
    }
  }
}
