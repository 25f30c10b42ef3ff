// Runs one conformance case with aws-local-stepfunctions, the independent
// ASL runtime, and prints {"output": ...} or {"error": ..., "cause": ...}.
//
//   node localsfn.mjs definition.asl.json input.json [tasks.json]
//
// It also prints "calls": the Task resources called, in order, so that the
// path through the machine is compared too, not only where it ended.
//
// tasks.json gives, per Task resource name (the NAME of "${NAME}"), what
// its successive calls do: {"result": <json>}, {"echo": true} (return the
// input), or {"error": "Name", "cause": "text"}; the last entry repeats.
// The Go test runs the same case with the same tasks through our executor.
// The library API is used rather than the local-sfn CLI because a CLI task
// override cannot fail with a named error, which Catch needs.
import { readFileSync, existsSync } from 'node:fs';

// The library targets Node 22; this is the one Node 22 API it needs that
// Node 20 lacks.
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};
const { StateMachine } = await import('aws-local-stepfunctions');

const [defPath, inputPath, tasksPath] = process.argv.slice(2);
// "${Name}" placeholders become Lambda ARNs, as CDK substitutes them.
const definition = JSON.parse(readFileSync(defPath, 'utf8').replace(
  /"\$\{([A-Za-z0-9_]+)\}"/g, '"arn:aws:lambda:us-east-1:123456789012:function:$1"'));
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const tasks = tasksPath && existsSync(tasksPath) ? JSON.parse(readFileSync(tasksPath, 'utf8')) : {};

const calls = {};
const order = []; // task resources in the order they were called
const handlers = {};
const waits = {};
const retries = {};

function resourceName(resource) {
  return resource.split(':function:')[1] ?? resource;
}

function visit(machine) {
  for (const [name, state] of Object.entries(machine.States)) {
    if (state.Type === 'Task') {
      const resource = resourceName(state.Resource);
      handlers[name] = async (taskInput) => {
        const script = tasks[resource] ?? [{ echo: true }];
        order.push(resource);
        const n = calls[resource] ?? 0;
        calls[resource] = n + 1;
        const step = script[Math.min(n, script.length - 1)];
        if (step.error !== undefined) {
          const err = new Error(step.cause ?? '');
          err.name = step.error;
          throw err;
        }
        return step.echo ? taskInput : step.result;
      };
    }
    if (state.Type === 'Wait') waits[name] = 0;
    if (state.Retry) retries[name] = 0;
    for (const branch of state.Branches ?? []) visit(branch);
  }
}
visit(definition);

const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
const execution = machine.run(input, {
  overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
  context: { Execution: { Id: 'conformance', Name: 'conformance' } },
});
try {
  const output = await execution.result;
  console.log(JSON.stringify({ output, calls: order }));
} catch (e) {
  const cause = e.cause ?? e;
  console.log(JSON.stringify({ error: cause.name, cause: cause.message, calls: order }));
}
