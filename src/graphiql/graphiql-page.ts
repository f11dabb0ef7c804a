/**
 * The GraphiQL page and its start-up script. Everything it loads is served by this server
 * (GraphiQLController), so the page works offline and under a CSP that allows only itself.
 */

export interface GraphiqlPageOptions {
  /** The GraphQL endpoint the page talks to, over HTTP and WebSocket. */
  endpoint: string;
  title: string;
  /** Where the shared assets are served. */
  assets: string;
  /** The editor's first content (shown until the user types something else). */
  defaultQuery: string;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** What the page may load: only this server (fonts and icons are data URLs in GraphiQL's CSS). */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

export function graphiqlPage(options: GraphiqlPageOptions): string {
  const a = options.assets;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="${a}/graphiql.min.css">
<link rel="stylesheet" href="${a}/page.css">
</head>
<body data-endpoint="${escapeHtml(options.endpoint)}" data-default-query="${escapeHtml(options.defaultQuery)}">
<header id="token-bar">
<strong>${escapeHtml(options.title)}</strong>
<label for="token">Access token</label>
<input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="accessToken from login (filled in when you run login here)">
<span id="token-state" aria-live="polite"></span>
</header>
<main id="graphiql">Loading GraphiQL…</main>
<script src="${a}/react.production.min.js"></script>
<script src="${a}/react-dom.production.min.js"></script>
<script src="${a}/graphql-ws.min.js"></script>
<script src="${a}/graphiql.min.js"></script>
<script src="${a}/start.js"></script>
</body>
</html>
`;
}

export const GRAPHIQL_PAGE_CSS = `html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
#token-bar { display: flex; align-items: center; gap: 0.6rem; padding: 0.4rem 0.8rem;
  border-bottom: 1px solid #ddd; background: #f7f7f9; font-size: 14px; }
#token-bar input { flex: 1; max-width: 40rem; font-family: monospace; padding: 0.25rem 0.4rem; }
#token-state { color: #555; }
#graphiql { flex: 1; min-height: 0; }
`;

/**
 * Runs in the browser (no module system: the UMD globals React, ReactDOM, graphqlWs and
 * GraphiQL). The token goes to the Authorization header of HTTP requests and to the
 * connection_init payload of the WebSocket (graphql-transport-ws); a new token re-creates the
 * fetcher, so GraphiQL reloads the schema with it (the admin schema needs an admin token).
 */
export const GRAPHIQL_START_JS = `'use strict';
(function () {
  var body = document.body;
  var endpoint = body.getAttribute('data-endpoint');
  var httpUrl = location.origin + endpoint;
  var wsUrl = httpUrl.replace(/^http/, 'ws');
  var input = document.getElementById('token');
  var state = document.getElementById('token-state');
  var tokenKey = 'graphiql:token:' + endpoint;
  input.value = sessionStorage.getItem(tokenKey) || '';

  function token() { return input.value.trim().replace(/^Bearer\\s+/i, ''); }

  var client = null;
  var clientToken = null;
  function wsClient() {
    var current = token();
    if (client === null || clientToken !== current) {
      if (client !== null) client.dispose();
      clientToken = current;
      client = graphqlWs.createClient({
        url: wsUrl,
        lazy: true,
        retryAttempts: 0,
        connectionParams: current ? { authorization: 'Bearer ' + current } : {},
      });
    }
    return client;
  }

  function withToken(url, init) {
    var headers = Object.assign({}, (init && init.headers) || {});
    var named = Object.keys(headers).some(function (k) { return k.toLowerCase() === 'authorization'; });
    var current = token();
    if (current && !named) headers.authorization = 'Bearer ' + current;
    return fetch(url, Object.assign({}, init, { headers: headers }));
  }

  function makeFetcher() {
    var base = GraphiQL.createFetcher({
      url: httpUrl,
      fetch: withToken,
      enableIncrementalDelivery: false,
      wsClient: { subscribe: function (payload, sink) { return wsClient().subscribe(payload, sink); } },
    });
    return function (params, options) {
      var result = base(params, options);
      if (result && typeof result.then === 'function') {
        return result.then(function (answer) {
          var session = answer && answer.data && answer.data.login;
          if (session && typeof session.accessToken === 'string') setToken(session.accessToken);
          return answer;
        });
      }
      return result;
    };
  }

  // A link may carry the operation to open (?query=...), as GraphiQL links usually do; it
  // fills the editor once, on the first render.
  var linkedQuery = new URLSearchParams(location.search).get('query');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var storage = GraphiQL.createLocalStorage({ namespace: 'graphiql' + endpoint.replace(/\\//g, ':') });
  function render() {
    state.textContent = token() ? 'token set: sent as Authorization and in connection_init' : 'no token';
    var props = {
      fetcher: makeFetcher(),
      storage: storage,
      defaultQuery: body.getAttribute('data-default-query'),
      defaultEditorToolsVisibility: false,
      isHeadersEditorEnabled: true,
    };
    if (linkedQuery !== null) {
      props.query = linkedQuery;
      linkedQuery = null;
    }
    root.render(React.createElement(GraphiQL, props));
  }
  function setToken(value) {
    if (value === token()) return;
    input.value = value;
    sessionStorage.setItem(tokenKey, value);
    render();
  }
  input.addEventListener('change', function () {
    sessionStorage.setItem(tokenKey, token());
    render();
  });
  render();
})();
`;
