/**
 * A caller of the hosted `api` function for one account, with the bearer token it was given: status, raw text and
 * parsed JSON of each answer.
 */
export function apiClient(baseUrl: () => string | undefined, accountId: string, token: string) {
  return async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${baseUrl()}/v1/accounts/${accountId}/${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}
