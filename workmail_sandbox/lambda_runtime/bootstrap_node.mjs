// The kit's Node.js runtime for a worker process: the Lambda Runtime API client that
// workmail_sandbox/lambda_runtime/process.py starts as `node bootstrap_node.mjs` for
// nodejs* functions (isolation "process"). An ES module for Node.js 18 or later, with no
// dependencies (AWS's aws-lambda-ric needs a native build, docs/nodejs.md).
//
// It does what Lambda's Node.js runtime does (aws/aws-lambda-nodejs-runtime-interface-client):
// * console.* writes "<ISO time>\t<request id>\t<LEVEL>\t<message>" lines to stdout (a
//   message's own line breaks become \r, so it stays one log event); AWS_LAMBDA_LOG_LEVEL
//   filters them;
// * _HANDLER ("index.handler", "src/app.handler", "index.nested.fn") is loaded from
//   LAMBDA_TASK_ROOT: an extensionless file or a .js file (without "type": "module") with
//   require, a .js file in a "type": "module" package or a .mjs file with import, a .cjs
//   file with require, else require's own search from the task root;
// * init errors (Runtime.ImportModuleError, Runtime.HandlerNotFound,
//   Runtime.MalformedHandlerName, Runtime.UserCodeSyntaxError, or whatever the module
//   throws) are logged as "Uncaught Exception", posted to /init/error, and the process ends;
// * a handler may return a promise (async) or call callback(error, result); with
//   context.callbackWaitsForEmptyEventLoop (the default) a callback's result is sent when
//   the event loop is empty; a handler that never answers gets null (async: an error);
// * errors go to /invocation/<id>/error as {errorType, errorMessage, trace} after an
//   "Invoke Error" log line; an uncaught exception or unhandled rejection during an
//   invocation is reported and ends the process (exit 129, 128).
//
// And the sandbox's network guard, installed before the handler is loaded: function code
// reaches loopback only (the sandbox's endpoint, AWS_ENDPOINT_URL, and the Runtime API).
// net.connect/createConnection, net.Socket#connect, tls.connect, dgram, dns.lookup, the
// dns resolvers and global fetch refuse any other host with an error that names it;
// worker threads get the same guard.

import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import nodeModule, { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import util from 'node:util';
import workerThreads from 'node:worker_threads';

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const require = createRequire(import.meta.url);
const httpRequest = http.request; // held before user code runs (nock and the like patch the module)

// ---------------------------------------------------------------------------------- the guard

/**
 * Refuse every connection, datagram and name lookup that is not for this machine.
 * Self-contained (it is also sent, as source, to worker threads): everything it uses
 * comes in `modules`.
 */
function installNetworkGuard(modules) {
  const { net, tls, dns, dgram, nodeModule } = modules;
  const LOCAL_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

  class NetworkBlockedError extends Error {
    constructor(kind, host, port) {
      const target = port === undefined || port === null || port === '' ? `${host}` : `${host}:${port}`;
      super(
        `The sandbox refused a network ${kind} to ${target}: in sandbox mode nothing may leave this machine ` +
          '(a function reaches only loopback: the sandbox endpoint in AWS_ENDPOINT_URL and the Runtime API).',
      );
      this.name = 'NetworkBlockedError';
      this.code = 'ECONNREFUSED';
      this.syscall = kind === 'name lookup' ? 'getaddrinfo' : 'connect';
      this.hostname = `${host}`;
      if (port !== undefined && port !== null && port !== '') this.port = Number(port);
    }
  }

  function isLoopback(host) {
    if (host === undefined || host === null || host === '') return true;
    let name = String(host).trim().toLowerCase();
    if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
    name = name.split('%')[0];
    if (LOCAL_NAMES.has(name)) return true;
    const family = net.isIP(name);
    if (family === 4) return name.split('.')[0] === '127';
    if (family === 6) {
      const canonical = new URL(`http://[${name}]/`).hostname.slice(1, -1); // ::1, ::ffff:7f00:1
      return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:/.test(canonical);
    }
    return false;
  }

  const check = (kind, host, port) => {
    if (!isLoopback(host)) throw new NetworkBlockedError(kind, host, port);
  };

  // net.connect(options | port[, host] | path), and net's own normalized [options, cb] array.
  function connectTarget(args) {
    let first = args[0];
    if (Array.isArray(first)) first = first[0];
    if (first !== null && typeof first === 'object') {
      if (first.path !== undefined && first.path !== null) return null; // a Unix socket
      if (first.socket) return null; // TLS over a socket already connected (and checked)
      return [first.host ?? first.hostname ?? 'localhost', first.port];
    }
    if (typeof first === 'string' && !/^\d+$/.test(first)) return null; // a Unix socket path
    return [typeof args[1] === 'string' ? args[1] : 'localhost', first];
  }

  function guarded(original, kind, target) {
    const wrapper = function (...args) {
      const found = target(args);
      if (found) check(kind, found[0], found[1]);
      return original.apply(this, args);
    };
    Object.defineProperty(wrapper, 'name', { value: original.name });
    return wrapper;
  }

  const connection = (original) => guarded(original, 'connection', connectTarget);
  net.Socket.prototype.connect = connection(net.Socket.prototype.connect);
  const netConnect = connection(net.connect);
  net.connect = netConnect;
  net.createConnection = netConnect;
  tls.connect = connection(tls.connect);

  // UDP: send(msg[, offset, length][, port][, address][, cb]) and connect(port[, address][, cb]).
  const udpDefault = (socket) => (socket.type === 'udp6' ? '::1' : '127.0.0.1');
  const originalSend = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function send(msg, ...args) {
    const rest = typeof args[args.length - 1] === 'function' ? args.slice(0, -1) : args;
    const [port, address] = typeof rest[0] === 'number' && typeof rest[1] === 'number' ? rest.slice(2) : rest;
    if (port !== undefined && port !== null) check('datagram', address ?? udpDefault(this), port); // else connected
    return originalSend.call(this, msg, ...args);
  };
  const originalUdpConnect = dgram.Socket.prototype.connect;
  dgram.Socket.prototype.connect = function connect(port, address, ...rest) {
    check('datagram', typeof address === 'string' ? address : udpDefault(this), port);
    return originalUdpConnect.call(this, port, address, ...rest);
  };

  // Name lookups: a refusal goes to the callback (or the promise), as a lookup error would.
  function lookupGuard(original, promised) {
    return function (hostname, ...rest) {
      if (!isLoopback(hostname)) {
        const error = new NetworkBlockedError('name lookup', hostname);
        if (promised) return Promise.reject(error);
        const callback = rest.findLast((value) => typeof value === 'function');
        if (!callback) throw error;
        process.nextTick(callback, error);
        return {};
      }
      return original.call(this, hostname, ...rest);
    };
  }
  const RESOLVERS = [
    'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr',
    'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse',
  ];
  for (const [holder, promised] of [
    [dns, false], [dns.Resolver.prototype, false], [dns.promises, true], [dns.promises.Resolver.prototype, true],
  ]) {
    for (const name of ['lookup', 'lookupService', ...RESOLVERS]) {
      if (typeof holder[name] === 'function') holder[name] = lookupGuard(holder[name], promised);
    }
  }

  // fetch (undici): refused before undici starts, with the same error.
  const originalFetch = globalThis.fetch;
  if (typeof originalFetch === 'function') {
    globalThis.fetch = function fetch(input, init) {
      let url = null;
      try {
        url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
      } catch {
        url = null; // fetch reports what is wrong with it
      }
      if (url && /^(https?|wss?):$/.test(url.protocol) && !isLoopback(url.hostname)) {
        const port = url.port || { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 }[url.protocol];
        return Promise.reject(new NetworkBlockedError('connection', url.hostname, port));
      }
      return originalFetch.call(this, input, init);
    };
  }

  nodeModule.syncBuiltinESMExports(); // `import { connect } from 'node:net'` sees the guarded functions too
}

/** A worker thread has builtin modules of its own: it runs the guard before its code. */
function guardWorkerThreads() {
  const guard =
    `(${installNetworkGuard.toString()})({ net: require('node:net'), tls: require('node:tls'), ` +
    "dns: require('node:dns'), dgram: require('node:dgram'), nodeModule: require('node:module') });\n";
  const Original = workerThreads.Worker;
  class Worker extends Original {
    constructor(filename, options = {}) {
      if (options.eval) {
        super(guard + String(filename), options);
      } else {
        const href = filename instanceof URL ? filename.href : pathToFileURL(path.resolve(String(filename))).href;
        super(`${guard}import(${JSON.stringify(href)});`, { ...options, eval: true });
      }
    }
  }
  workerThreads.Worker = Worker;
  nodeModule.syncBuiltinESMExports();
}

// ---------------------------------------------------------------------------------- logging

const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };

function patchConsole() {
  const wanted = LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] ?? LEVELS.TRACE;
  const write = (level) => (message, ...params) => {
    const text = util.format(message, ...params).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${text}\n`);
  };
  const nothing = () => {};
  const method = (level) => (LEVELS[level] >= wanted ? write(level) : nothing);
  console.trace = method('TRACE');
  console.debug = method('DEBUG');
  console.info = method('INFO');
  console.log = console.info;
  console.warn = method('WARN');
  console.error = method('ERROR');
  console.fatal = write('FATAL');
}

// Error name, message, code and stack are not enumerable: the log shows them with the error's own fields.
function formatted(error) {
  const replacer = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const shown = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') shown.stack = value.stack.split('\n');
    return shown;
  };
  try {
    return `\t${JSON.stringify(error, replacer)}`;
  } catch {
    return `\t${JSON.stringify(rapidResponse(error))}`;
  }
}

const intoError = (error) => (error instanceof Error ? error : new Error(error));
const logError = (what, error) => console.error(what, formatted(intoError(error)));

/** An error as the runtime posts it: {errorType, errorMessage, trace}. */
function rapidResponse(error) {
  try {
    const errorLike =
      util.types.isNativeError(error) ||
      (error && typeof error.name === 'string' && typeof error.message === 'string' && typeof error.stack === 'string');
    if (errorLike) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its ' +
        'message, name, and stack',
    };
  }
}

// ------------------------------------------------------------------------------ runtime errors

class RuntimeError extends Error {}
const runtimeError = (kind) => {
  const made = class extends RuntimeError {};
  Object.defineProperty(made, 'name', { value: kind });
  made.prototype.name = `Runtime.${kind}`;
  return made;
};
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
class UnhandledPromiseRejection extends runtimeError('UnhandledPromiseRejection') {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
class NodeJsExit extends runtimeError('NodeJsExit') {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a ' +
        'Promise that was never settled. For more information, see ' +
        'https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}

// ----------------------------------------------------------------------------- loading the handler

function packageTypeIsModule(folder) {
  // The nearest package.json decides; a node_modules folder or the root ends the search.
  for (let current = folder; ; current = path.dirname(current)) {
    if (current.endsWith(`${path.sep}node_modules`)) return false;
    const manifest = path.join(current, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, 'utf8'))?.type === 'module';
      } catch (error) {
        console.warn(`${manifest} cannot be read, it will be ignored for ES module detection purposes.`, error);
        return false;
      }
    }
    if (path.dirname(current) === current) return false;
  }
}

const requireFile = (file) => (fs.existsSync(file) ? require(file) : undefined);
const importFile = async (file) => (fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined);

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = requireFile(base);
  if (extensionless) return extensionless;
  const isModule = packageTypeIsModule(path.dirname(base));
  if (!isModule) {
    const commonJs = requireFile(`${base}.js`);
    if (commonJs) return commonJs;
  }
  const loaded =
    (isModule && (await importFile(`${base}.js`))) || (await importFile(`${base}.mjs`)) || requireFile(`${base}.cjs`);
  if (loaded) return loaded;
  // require's own search (node_modules, folders with an index), from the task root.
  return require(require.resolve(moduleName, { paths: [appRoot, path.resolve(appRoot, moduleRoot)] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;
  let userModule;
  try {
    userModule = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserCodeSyntaxError(error);
    if (error?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(error);
    throw error;
  }
  const handler = handlerPath.split('.').reduce((found, key) => found && found[key], userModule);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

// ---------------------------------------------------------------------------- the Runtime API

class RuntimeApi {
  constructor(address) {
    const [hostname, port] = address.split(':');
    this.hostname = hostname;
    this.port = Number(port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(method, route, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(body, 'utf8');
      const options = {
        hostname: this.hostname, port: this.port, method, agent: this.agent, path: `/2018-06-01/runtime/${route}`,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers } : headers,
      };
      const request = httpRequest(options, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString() });
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(data);
    });
  }

  async next() {
    const answer = await this.request('GET', 'invocation/next');
    if (answer.status !== 200) throw new Error(`the Runtime API answered ${answer.status}: ${answer.body}`);
    return answer;
  }

  respond(id, body) {
    return this.request('POST', `invocation/${encodeURIComponent(id)}/response`, body);
  }

  fail(id, error) {
    return this.postError(`invocation/${encodeURIComponent(id)}/error`, error);
  }

  failInit(error) {
    return this.postError('init/error', error);
  }

  postError(route, error) {
    const response = rapidResponse(error);
    const type = String(response.errorType).replace(/[^\x20-\x7e]/g, '?'); // a header takes printable ASCII only
    return this.request('POST', route, JSON.stringify(response), { 'Lambda-Runtime-Function-Error-Type': type });
  }
}

// -------------------------------------------------------------------------------- the run loop

const api = new RuntimeApi(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');
let beforeExit = () => {};
/** End the process with `status` once `posted` settles (the Runtime API may be gone already). */
const exitAfter = (posted, status) => posted.then(() => process.exit(status), () => process.exit(status));
const errorCallbacks = {
  uncaughtException: (error) => exitAfter(api.failInit(error), 129),
  unhandledRejection: (error) => exitAfter(api.failInit(error), 128),
};

/** The callback and the context's succeed/fail/done for one invocation: only the first call counts. */
function callbackContext(id, scheduleNext) {
  let completed = false;
  let waitForEmptyEventLoop = true;
  const postError = (error) => {
    logError('Invoke Error', error);
    api.fail(id, error).then(scheduleNext, exitOnLostApi);
  };
  const complete = (result) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    completed = true;
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch {
      postError(new Error('Unable to stringify response body'));
      return;
    }
    api.respond(id, body).then(scheduleNext, exitOnLostApi);
  };
  const done = (error, result) => {
    beforeExit = () => {};
    if (error !== undefined && error !== null) postError(error);
    else complete(result);
  };
  const callback = (error, result) => {
    beforeExit = () => {};
    if (error !== undefined && error !== null) postError(error);
    else if (!waitForEmptyEventLoop) complete(result);
    else beforeExit = () => setImmediate(() => complete(result));
  };
  let finished = false;
  const once = (fn) => (...args) => {
    if (!finished) {
      fn(...args);
      finished = true;
    }
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((error) => done(error === undefined || error === null ? 'handled' : error, null)),
    done: once(done),
  };
  return { callback: once(callback), context, markCompleted: () => (completed = true) };
}

function parseJson(text, name) {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error}`);
  }
}

function exitOnLostApi(error) {
  process.stderr.write(`workmail-sandbox: the Runtime API is gone (${error?.message ?? error}); the worker ends\n`);
  process.exit(70);
}

async function handleOnce(handler, isAsync) {
  let body, headers;
  try {
    ({ body, headers } = await api.next());
  } catch (error) {
    exitOnLostApi(error); // the sandbox stopped the worker
  }
  const id = headers['lambda-runtime-aws-request-id'];
  globalThis[REQUEST_ID] = id;
  if (headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;
  const scheduleNext = () => scheduleIteration(handler, isAsync);
  const { callback, context, markCompleted } = callbackContext(id, scheduleNext);
  errorCallbacks.uncaughtException = (error) => exitAfter(api.fail(id, error), 129);
  errorCallbacks.unhandledRejection = (error) => exitAfter(api.fail(id, error), 128);
  beforeExit = () => {
    // The handler never answered and nothing is left to run.
    markCompleted();
    if (isAsync) {
      const error = new NodeJsExit();
      logError('Invoke Error', error);
      api.fail(id, error).then(scheduleNext, exitOnLostApi);
    } else {
      api.respond(id, 'null').then(scheduleNext, exitOnLostApi);
    }
  };
  try {
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    Object.assign(context, {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseJson(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJson(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: id,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    });
    const result = handler(JSON.parse(body), context, callback);
    if (result && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (error) {
    callback(error);
  }
}

function scheduleIteration(handler, isAsync) {
  setImmediate(() => {
    handleOnce(handler, isAsync).catch((error) => {
      console.log(`Unexpected Top Level Error: ${error}`);
      errorCallbacks.uncaughtException(error);
    });
  });
}

async function main() {
  patchConsole();
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  process.on('beforeExit', () => beforeExit());
  installNetworkGuard({ net, tls, dns, dgram, nodeModule });
  guardWorkerThreads();
  const taskRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(taskRoot, process.env._HANDLER || '');
  } catch (error) {
    logError('Uncaught Exception', error);
    await exitAfter(api.failInit(error), 129);
  }
  scheduleIteration(handler, handler.constructor?.name === 'AsyncFunction');
}

main();
