// seeds.mjs: writes the seed corpora in fuzz/corpus/ (realistic inputs
// for each target), signing JWTs with the test keys in fuzz/keys.json.
//
//   node fuzz/seeds.mjs        # needs tests/node_modules (npm ci in tests/)
//
// Only the files named here are (re)written; others in fuzz/corpus/ stay.
// ES256 signatures are randomised, so JWT seeds change on every run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const require = createRequire(join(root, 'tests', 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')));
const keys = JSON.parse(readFileSync(join(here, 'keys.json'), 'utf8'));

// fuzz.h: FUZZ_NOW and FUZZ_ISSUER.
const NOW = 1767225600;
const ISSUER = 'https://auth.example.com/t1';
const DOC_URL = 'https://app.example.com/oauth/client.json';
const ATYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const pub = (alg) => {
	const { d, p, q, dp, dq, qi, ...rest } = keys[alg];
	return rest;
};
async function sign(alg, claims, header = {}) {
	const key = await jose.importJWK(keys[alg], alg);
	return new jose.SignJWT(claims)
		.setProtectedHeader({ alg, kid: keys[alg].kid, typ: 'JWT', ...header })
		.sign(key);
}
const assertion = (alg, iss, extra = {}) =>
	sign(alg, {
		iss, sub: iss, aud: `${ISSUER}/token`, jti: `jti-${alg}-${iss}`,
		iat: NOW, exp: NOW + 120, ...extra,
	});
const b64 = (s) => Buffer.from(s).toString('base64');
const enc = encodeURIComponent;
const json = (o) => JSON.stringify(o);

const es256 = await sign('ES256', { iss: ISSUER, sub: 'alice', aud: 'https://mcp.example.com/mcp', exp: NOW + 3600, scope: 'files:read' }, { typ: 'at+jwt' });
const eddsa = await sign('EdDSA', { iss: ISSUER, sub: 'bob', exp: NOW + 60 });
const rs256 = await sign('RS256', { iss: ISSUER, sub: 'carol', aud: [ISSUER, 'x'], exp: NOW });
const [h, p, s] = es256.split('.');
const none = `${Buffer.from(json({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
const jku = `${Buffer.from(json({ alg: 'ES256', jku: 'https://127.0.0.1:1/jwks', kid: 'x' })).toString('base64url')}.${p}.${s}`;
const keyBot = await assertion('ES256', 'key-bot');
const edBot = await assertion('EdDSA', 'ed-bot');
const rsBot = await assertion('RS256', 'rs-bot', { aud: [ISSUER] });
// Valid signatures over claims the token endpoint refuses: only seeds can
// reach these checks, as the fuzzer cannot sign.
const refused = {
	'aud': { aud: 'https://other.example.com/token' },
	'aud-array': { aud: ['x', 1, null] },
	'expired': { exp: NOW - 1 },
	'exp-far': { exp: NOW + 301 },
	'exp-string': { exp: String(NOW + 60) },
	'no-jti': { jti: undefined },
	'no-aud': { aud: undefined },
	'jti-long': { jti: 'j'.repeat(257) },
	'sub': { sub: 'ed-bot' },
	'replayed': { jti: 'jti-ES256-key-bot' },
};
for (const [name, claims] of Object.entries(refused))
	refused[name] = await assertion('ES256', 'key-bot', claims);

const corpus = {
	form: {
		'token-code': `grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=${enc('http://127.0.0.1:6276/oauth/callback')}&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&client_id=abc&resource=${enc('https://mcp.example.com/mcp')}`,
		'token-refresh': 'grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&client_id=s6BhdRkqt3&scope=files%3Aread',
		'authorize-query': `response_type=code&client_id=${enc(DOC_URL)}&redirect_uri=${enc('cursor://anysphere.cursor-retrieval/oauth/callback')}&scope=files%3Aread+files%3Awrite+offline_access&state=af0ifjsldkj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`,
		'login': 'request_id=Zm9vYmFy&csrf=c2VjcmV0&username=alice&password=p%C3%A4ss+w%F0%9F%94%91rd',
		'consent': 'request_id=Zm9vYmFy&csrf=c2VjcmV0&decision=allow',
		'revoke': 'token=eyJhbGciOiJFUzI1NiJ9.e30.sig&token_type_hint=access_token',
		'assertion': `grant_type=client_credentials&client_assertion_type=${enc(ATYPE)}&client_assertion=${keyBot}`,
		'edges': 'a=1&&b=&c&%41=%7e+&d=%e2%82%ac&',
	},
	json: {
		'object': json({ a: 1, b: [true, false, null], c: { d: 'e\u00e9\u20ac', f: -0.5e-3 } }),
		'escapes': '{"s":"\\u0041\\ud83d\\ude00\\n\\t\\"\\\\\\/","n":12345678901234567890}',
		'array': '[1, 2.5e10, -0, 0.0, 1E+2, "x", [], {}, [[[]]]]',
		'scalars': ' "just a string" ',
		'number': '-12.5e-7',
		'nested': '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{}}}}}}}}}',
		'literal': 'null',
	},
	register: {
		'claude-code': json({ client_name: 'Claude Code (mcp)', redirect_uris: ['http://localhost:54212/callback'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }),
		'cursor': json({ redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback'], client_name: 'Cursor', application_type: 'native', scope: 'files:read files:write offline_access' }),
		'vscode': json({ client_name: 'Visual Studio Code', redirect_uris: ['http://127.0.0.1:33418', 'https://vscode.dev/redirect'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scope: 'mail:read unknown:scope' }),
		'web-confidential': json({ client_name: 'Hosted agent', redirect_uris: ['https://agent.example.com/oauth/cb'], token_endpoint_auth_method: 'client_secret_basic', application_type: 'web', client_uri: 'https://agent.example.com/', logo_uri: 'https://agent.example.com/logo.png', tos_uri: 'https://agent.example.com/tos', policy_uri: 'https://agent.example.com/privacy', contacts: ['ops@example.com'], software_id: 'agent', software_version: '2.1.0' }),
		'post-secret': json({ redirect_uris: ['https://a.example.com/cb'], token_endpoint_auth_method: 'client_secret_post', client_id: 'chosen', client_secret: 'chosen' }),
		'nulls': json({ redirect_uris: ['com.example.app:/oauth2redirect'], client_name: null, scope: null, grant_types: null, contacts: null }),
		'private-key-jwt': json({ redirect_uris: ['https://a.example.com/cb', 'https://a.example.com/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pub('ES256')] } }),
		'refused': json({ redirect_uris: ['javascript:alert(1)', 'http://127.1/'], grant_types: ['client_credentials'], response_types: ['token'] }),
		'wrong-types': json({ redirect_uris: ['https://a.example.com/cb'], client_name: 7, grant_types: ['authorization_code', 1], token_endpoint_auth_method: ['none'], scope: {}, contacts: 'x', application_type: 'web', logo_uri: 'ftp://x' }),
		'inspector': json({ redirect_uris: ['http://localhost:6274/oauth/callback/debug', 'http://[::1]:6274/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], client_name: 'MCP Inspector', client_uri: 'https://github.com/modelcontextprotocol/inspector' }),
	},
	document: {
		'public': json({ client_id: DOC_URL, client_name: 'Example App', client_uri: 'https://app.example.com', logo_uri: 'https://app.example.com/logo.png', redirect_uris: ['https://app.example.com/callback', 'http://127.0.0.1/callback'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }),
		'jwks-es256': json({ client_id: DOC_URL, client_name: 'Keyed App', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pub('ES256')] } }),
		'jwks-eddsa': json({ client_id: DOC_URL, client_name: 'Ed App', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'EdDSA', jwks: { keys: [pub('EdDSA')] } }),
		'jwks-uri': json({ client_id: DOC_URL, client_name: 'Remote keys', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', jwks_uri: 'https://app.example.com/jwks.json' }),
		'secret': json({ client_id: DOC_URL, client_name: 'Bad', redirect_uris: ['https://app.example.com/cb'], client_secret: 'x', token_endpoint_auth_method: 'client_secret_basic' }),
		'both-keys': json({ client_id: DOC_URL, client_name: 'Both', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json', jwks: { keys: [pub('ES256')] } }),
		'native': json({ client_id: DOC_URL, client_name: 'Desktop', application_type: 'native', redirect_uris: ['com.example.desktop:/cb', 'http://localhost/cb'] }),
	},
	jwks: {
		'es256': json({ keys: [pub('ES256')] }),
		'eddsa': json({ keys: [{ ...pub('EdDSA'), use: 'sig', alg: 'EdDSA' }] }),
		'rs256': json({ keys: [{ ...pub('RS256'), alg: 'RS256' }] }),
		'mixed': json({ keys: [pub('ES256'), { ...pub('ES256'), kid: 'other' }, pub('EdDSA'), pub('RS256')] }),
		'private': json({ keys: [keys.ES256] }),
		'oct': json({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }),
		'same-kid': json({ keys: [pub('EdDSA'), { ...pub('EdDSA'), x: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }] }),
		'not-objects': json({ keys: ['x', null, [pub('ES256')]] }),
	},
	jose: {
		'es256': es256, 'eddsa': eddsa, 'rs256': rs256,
		'alg-none': none, 'jku': jku,
		'truncated': es256.slice(0, es256.length - 10),
		'jws-json': json({ payload: p, signatures: [{ protected: h, signature: s }] }),
		// The structured form (jose.c): header, payload, raw signature.
		...Object.fromEntries([['es256', es256], ['eddsa', eddsa], ['rs256', rs256]].map(([name, jwt]) =>
			[`parts-${name}`, Buffer.concat(jwt.split('.').map((part, i) =>
				Buffer.concat([Buffer.from(part, 'base64url'), Buffer.from(i < 2 ? '\n' : '')])))])),
		'parts-crit': Buffer.from('{"alg":"ES256","crit":["b64"],"b64":false,"kid":"fuzz-es256"}\n{"iss":"x"}\n\x01\x02'),
		'parts-zip': Buffer.from('{"alg":"EdDSA","zip":"DEF","jku":"https://127.0.0.1:1/","x5u":"https://127.0.0.1:2/","jwk":{"kty":"OKP"}}\n\x00\x01binary\n'),
	},
	client_auth: {
		'basic': `Basic ${b64('conf:s3cret-conf-0123456789')}\ngrant_type=client_credentials&scope=files%3Aread`,
		'basic-encoded': `basic   ${b64('odd%3Aid:p%25ss+word')}\nclient_id=odd%3Aid`,
		'basic-bad': 'Basic Zm9v\n',
		'bearer': 'Bearer abc\ngrant_type=refresh_token',
		'public': '\nclient_id=pub&grant_type=authorization_code&code=abc&code_verifier=x',
		'post': '\nclient_id=post&client_secret=p0st-secret-0123456789',
		'twice': `Basic ${b64('post:p0st-secret-0123456789')}\nclient_secret=x`,
		'disabled': '\nclient_id=disabled&client_secret=x',
		'es256-assertion': `\ngrant_type=client_credentials&client_assertion_type=${enc(ATYPE)}&client_assertion=${keyBot}`,
		'eddsa-assertion': `\nclient_id=ed-bot&client_assertion_type=${enc(ATYPE)}&client_assertion=${edBot}`,
		'rs256-assertion': `\nclient_assertion_type=${enc(ATYPE)}&client_assertion=${rsBot}`,
		'assertion-wrong-client': `\nclient_id=pub&client_assertion_type=${enc(ATYPE)}&client_assertion=${keyBot}`,
		'assertion-for-secret-client': `\nclient_id=conf&client_assertion_type=${enc(ATYPE)}&client_assertion=${await assertion('ES256', 'conf')}`,
		'assertion-and-secret': `\nclient_secret=x&client_assertion_type=${enc(ATYPE)}&client_assertion=${keyBot}`,
		'assertion-type-only': '\nclient_assertion_type=jwt',
		'no-assertion': '\nclient_id=key-bot',
		'unknown': '\nclient_id=nobody&client_secret=x',
		'document-unfetched': `\nclient_id=${enc(DOC_URL)}`,
		'expired-secret': `Basic ${b64('expired:x')}\n`,
		'wrong-secret': `Basic ${b64('conf:wrong')}\n`,
		'old-secret': '\nclient_id=post&client_secret=old-secret-0123456789',
		'no-secret': '\nclient_id=conf',
		...Object.fromEntries(Object.entries(refused).map(([name, jwt]) =>
			[`assertion-${name}`, `\nclient_assertion_type=${enc(ATYPE)}&client_assertion=${jwt}`])),
	},
	cookie: {
		'both': '__Host-mcpauth-session-0a1b2c3d=c2Vzc2lvbg; __Host-mcpauth-flow-0a1b2c3d=Zmxvdw',
		'twice': 'a=1; a=2',
		'spaces': '  a=;b=c ;  __Host-mcpauth-flow-0a1b2c3d=x;',
		'other': '_ga=GA1.2.3; theme=dark; __Host-mcpauth-session-ffffffff=other-issuer',
	},
	redirect_uri: Object.fromEntries([
		'https://app.example.com/oauth/callback',
		'http://127.0.0.1:6276/oauth/callback',
		'http://localhost/cb?x=1',
		'http://[::1]:8080/',
		'cursor://anysphere.cursor-retrieval/oauth/callback',
		'com.example.app:/oauth2redirect',
		'https://app.example.com/cb#frag',
		'https://user:pw@app.example.com/',
		'http://127.1/',
		'http://0x7f.0.0.1/',
		'HTTPS://APP.example.com/',
		'javascript:alert(1)',
		'ms-msdt:/id',
		DOC_URL,
		'https://app.example.com/a/%2e%2E/b',
		'https://app.example.com:443/x?y=%20',
	].map((u, i) => [`uri-${String(i).padStart(2, '0')}`, u])),
	html: {
		'consent': readFileSync(join(root, 'www', 'consent.html'), 'utf8'),
		'login': readFileSync(join(root, 'www', 'login.html'), 'utf8'),
		'error': readFileSync(join(root, 'www', 'error.html'), 'utf8'),
		'sections': '{{! a comment }}\n<ul>\n  {{#scopes}}\n  <li>{{.}}</li>\n  {{/scopes}}\n</ul>\n{{^none}}none{{/none}} {{#one}}[{{.}}]{{/one}} {{ client_name }}\r\n{{#action}}{{.}}{{/action}}{{missing}}',
		'nested': '{{#scopes}}{{#scopes}}{{#one}}{{.}}{{/one}}{{/scopes}}{{/scopes}}',
		'malformed': '{{#a}}{{/b}} {{.}} {{Bad}} {{unclosed',
		// 3^8 repetitions of 700 bytes: over MCPAUTH_HTML_MAX_OUTPUT.
		'runaway': '{{#scopes}}'.repeat(8) + 'x'.repeat(700) + '{{/scopes}}'.repeat(8),
	},
	b64: {
		'empty': '', 'zg': 'Zg', 'zm8': 'Zm8', 'foo': 'Zm9v', 'padded': 'Zm9vYg==',
		'url': 'PDw_Pz4-', 'std': 'PDw/Pz4+', 'bits': 'Zh', 'jwt-part': p,
	},
	text: {
		'ascii': 'My MCP client "v2" \\ done',
		'controls': 'a\nb\rc\td\x01e\x7f\x1b[31m',
		'utf8': 'Caf\u00e9 \u20ac \u{1F511} \u0645\u0631\u062d\u0628\u0627',
		'bidi': 'evil\u202egnp.exe \u2066x\u2069 \u200e\u061c \u0085',
		'invalid': Buffer.from([0x61, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x92, 0x80, 0xed, 0xa0, 0x80, 0xff, 0x22]),
	},
	req: {
		'post-token': 'REQUEST_METHOD=POST\nREQUEST_URI=/t1/token?x=1\nQUERY_STRING=x=1\nCONTENT_TYPE=application/x-www-form-urlencoded\nCONTENT_LENGTH=29\nHTTP_COOKIE=a=b; c=d\nREMOTE_ADDR=2001:db8:1:2:3:4:5:6\nHTTP_AUTHORIZATION=Basic Zm9vOmJhcg==\nHTTP_HOST=auth.example.com\nHTTP_ORIGIN=https://auth.example.com\n\ngrant_type=client_credentials',
		'get-cgi': 'REQUEST_METHOD=GET\nSCRIPT_NAME=/t1\nPATH_INFO=/.well-known/oauth-authorization-server\nREMOTE_ADDR=192.0.2.1\n\n',
		'no-length': 'REQUEST_METHOD=PUT\nREQUEST_URI=/t1/register/abc\nREMOTE_ADDR=::ffff:192.0.2.1\n\n{"redirect_uris":["https://a.example.com/cb"]}',
		'short': 'REQUEST_METHOD=POST\nCONTENT_LENGTH=100\n\nabc',
		'bad-length': 'CONTENT_LENGTH=1x\n\n',
		'too-long': 'CONTENT_LENGTH=99999999999\n\n',
	},
	scope: {
		'subset': 'files:read\nfiles:read files:write offline_access',
		'spaces': '  a  b \nb  c ',
		'pkce': 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\nE9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
		'empty': '\n',
	},
};

for (const [target, files] of Object.entries(corpus)) {
	const dir = join(here, 'corpus', target);
	mkdirSync(dir, { recursive: true });
	for (const [name, content] of Object.entries(files))
		writeFileSync(join(dir, name), content);
}
// fuzz.c embeds one valid JWT per algorithm for the jwks target.
console.log(`ES256 ${es256}\nEdDSA ${eddsa}\nRS256 ${rs256}`);
