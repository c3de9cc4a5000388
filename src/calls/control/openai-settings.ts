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
  return {
    baseURL: baseURL || read('OPENAI_BASE_URL') || 'https://api.openai.com/v1',
    headers,
  };
}
