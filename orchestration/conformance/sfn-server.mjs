// A small Step Functions API on one machine: the operations our Step
// Functions adapter calls (StartExecution, DescribeExecution, StopExecution),
// spoken in the service's own protocol (AWS JSON 1.0), with every execution
// run by aws-local-stepfunctions, the independent ASL runtime.
//
//   node sfn-server.mjs --port N --state-machine <arn>=<definition.asl.json> [--state-machine ...]
//
// It prints "listening <port>" on stdout when it accepts requests (--port 0
// picks a free port, the one printed). Executions live in memory, for as
// long as the process.
//
// Task states call real Lambda endpoints: each "${Name}" placeholder of a
// definition becomes arn:aws:lambda:<region>:123456789012:function:<Name>
// (as CDK substitutes them, <region> that of the state machine's ARN), and
// the AWS SDK for JavaScript the library invokes them with honours
// AWS_ENDPOINT_URL_LAMBDA, so point that at a local Lambda (the Runtime
// Interface Emulator behind a router, or a test's fake). Credentials are
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set, dummy keys otherwise.
//
// What it copies from Step Functions Standard:
// - an execution name is unique per state machine; StartExecution with the
//   name and input of a running execution returns that execution's arn and
//   start date; with another input, or once it has closed,
//   ExecutionAlreadyExists;
// - DescribeExecution: status RUNNING, SUCCEEDED, FAILED, TIMED_OUT or
//   ABORTED, with output or error and cause, dates in epoch seconds;
//   a Lambda error's cause is its error payload as JSON, as the service
//   reports it;
// - errors are HTTP 400 with {"__type": "<Name>", "message": "..."};
// - executions run concurrently.
// Not copied: history, redrive, express workflows, quotas, authentication.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

// The library targets Node 22; this is the one Node 22 API it needs that
// Node 20 lacks.
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};
const { StateMachine, ExecutionAbortedError, ExecutionTimeoutError } = await import('aws-local-stepfunctions');

const ACCOUNT = '123456789012';
// Execution names: 1 to 80 characters; the service refuses whitespace,
// brackets, wildcards, punctuation and control characters. This is the
// conservative subset our adapter maps names into.
const NAME = /^[A-Za-z0-9_-]{1,80}$/;

class APIError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

function usage(message) {
  console.error(`sfn-server: ${message}\nusage: node sfn-server.mjs --port N --state-machine <arn>=<definition.asl.json> [--state-machine ...]`);
  process.exit(2);
}

function parseArgs(argv) {
  let port;
  const machines = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--port' && value !== undefined) {
      port = Number(value);
      i++;
    } else if (arg === '--state-machine' && value !== undefined) {
      const eq = value.indexOf('=');
      if (eq <= 0) usage(`--state-machine wants <arn>=<file>, not ${value}`);
      machines.push({ arn: value.slice(0, eq), file: value.slice(eq + 1) });
      i++;
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--port N is required (0 picks a free port)');
  if (machines.length === 0) usage('at least one --state-machine is required');
  return { port, machines };
}

// A state machine ARN: arn:<partition>:states:<region>:<account>:stateMachine:<name>
function parseMachineArn(arn) {
  const parts = arn.split(':');
  if (parts.length !== 7 || parts[0] !== 'arn' || parts[2] !== 'states' || parts[5] !== 'stateMachine' || !parts[3] || !parts[6]) {
    usage(`${arn} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
  }
  return { partition: parts[1], region: parts[3], account: parts[4], name: parts[6] };
}

function loadMachine({ arn, file }) {
  const { partition, region, account, name } = parseMachineArn(arn);
  // "${Name}" placeholders become Lambda ARNs, as CDK substitutes them.
  const text = readFileSync(file, 'utf8').replace(
    /"\$\{([A-Za-z0-9_]+)\}"/g, `"arn:${partition}:lambda:${region}:${ACCOUNT}:function:$1"`);
  const definition = JSON.parse(text);
  const machine = new StateMachine(definition, {
    awsConfig: {
      region,
      credentials: {
        accessKeys: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
        },
      },
    },
  });
  return { arn, name, machine, executionPrefix: `arn:${partition}:states:${region}:${account}:execution:${name}:` };
}

const { port, machines: machineArgs } = parseArgs(process.argv.slice(2));
const machines = new Map(machineArgs.map((m) => [m.arn, loadMachine(m)]));
const executions = new Map(); // execution ARN -> execution

const seconds = (ms) => ms / 1000;

function required(body, field) {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new APIError('ValidationException', `${field} is required`);
  return v;
}

// How a failed run ends: the error and cause Step Functions would show.
function failure(e) {
  const err = e?.cause ?? e; // ExecutionError wraps the state's error
  const out = { error: err?.name ?? 'States.Runtime', cause: err?.message ?? String(e) };
  // A Lambda function's error: the service reports its payload as cause.
  if (err?.cause && typeof err.cause === 'object' && 'errorType' in err.cause) {
    out.cause = JSON.stringify(err.cause);
  }
  // A Fail state without Cause has none.
  if (out.cause === 'Execution failed because of a Fail state') delete out.cause;
  return out;
}

function finish(x, fields) {
  if (x.status !== 'RUNNING') return; // stopped meanwhile
  Object.assign(x, fields, { stopDate: Date.now() });
}

function run(x, m, input) {
  const execution = m.machine.run(input, {
    context: {
      Execution: { Id: x.executionArn, Name: x.name, RoleArn: `arn:aws:iam::${ACCOUNT}:role/local` },
      StateMachine: { Id: m.arn, Name: m.name },
    },
  });
  x.abort = execution.abort;
  execution.result.then(
    (output) => finish(x, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
    (e) => {
      if (e instanceof ExecutionAbortedError) finish(x, { status: 'ABORTED' });
      else if (e instanceof ExecutionTimeoutError) finish(x, { status: 'TIMED_OUT', error: 'States.Timeout' });
      else finish(x, { status: 'FAILED', ...failure(e) });
    });
}

const operations = {
  StartExecution(body) {
    const stateMachineArn = required(body, 'stateMachineArn');
    const m = machines.get(stateMachineArn);
    if (!m) throw new APIError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    const name = body.name ?? randomUUID();
    if (typeof name !== 'string' || !NAME.test(name)) throw new APIError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = body.input ?? '{}';
    let input;
    try {
      input = JSON.parse(inputText);
    } catch (e) {
      throw new APIError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${e.message}'`);
    }
    const executionArn = m.executionPrefix + name;
    const existing = executions.get(executionArn);
    if (existing) {
      // Standard workflows: idempotent while running, for the same input.
      if (existing.status === 'RUNNING' && existing.input === inputText) {
        return { executionArn, startDate: seconds(existing.startDate) };
      }
      throw new APIError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const x = { executionArn, stateMachineArn, name, input: inputText, status: 'RUNNING', startDate: Date.now() };
    executions.set(executionArn, x);
    run(x, m, input);
    return { executionArn, startDate: seconds(x.startDate) };
  },

  DescribeExecution(body) {
    const x = executions.get(required(body, 'executionArn'));
    if (!x) throw new APIError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
    const out = {
      executionArn: x.executionArn,
      stateMachineArn: x.stateMachineArn,
      name: x.name,
      status: x.status,
      startDate: seconds(x.startDate),
      input: x.input,
      inputDetails: { included: true },
    };
    if (x.stopDate !== undefined) out.stopDate = seconds(x.stopDate);
    if (x.output !== undefined) {
      out.output = x.output;
      out.outputDetails = { included: true };
    }
    if (x.error !== undefined) out.error = x.error;
    if (x.cause !== undefined) out.cause = x.cause;
    return out;
  },

  StopExecution(body) {
    const x = executions.get(required(body, 'executionArn'));
    if (!x) throw new APIError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
    if (x.status === 'RUNNING') {
      finish(x, { status: 'ABORTED', error: body.error, cause: body.cause });
      x.abort?.();
    }
    return { stopDate: seconds(x.stopDate) };
  },
};

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const target = req.headers['x-amz-target'] ?? '';
      const [service, operation] = target.split('.');
      if (req.method !== 'POST' || service !== 'AWSStepFunctions' || !Object.hasOwn(operations, operation)) {
        throw new APIError('UnknownOperationException', `unknown operation ${req.method} ${target}`);
      }
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch (e) {
        throw new APIError('SerializationException', e.message);
      }
      reply(res, 200, operations[operation](body));
    } catch (e) {
      if (e instanceof APIError) {
        reply(res, 400, { __type: e.type, message: e.message });
      } else {
        console.error(e);
        reply(res, 500, { __type: 'InternalFailure', message: String(e?.message ?? e) });
      }
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const x of executions.values()) x.abort?.();
    server.close();
    process.exit(0);
  });
}
