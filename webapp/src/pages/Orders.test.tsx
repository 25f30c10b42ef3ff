import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { day } from '../lib/format';
import type { Order, SagaStep } from '../lib/types';
import { at, inAMonth, lastMonth, order, ret } from '../test/orders';
import { renderUI } from '../test/render';
import { OrderDetail } from './Orders';

afterEach(() => vi.unstubAllGlobals());

type Call = { method: string; url: string; headers: Record<string, string>; body?: unknown };

// serve answers the page's calls with answer, and records them.
function serve(answer: (c: Call, calls: Call[]) => Response | Promise<Response>) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const c: Call = { method: init.method ?? 'GET', url, headers: (init.headers ?? {}) as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    return answer(c, calls);
  });
  return calls;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });

const posts = (calls: Call[]) => calls.filter((c) => c.method === 'POST');

const returnSteps: SagaStep[] = ['ReverseReturnAward', 'RestoreReturnPoints', 'RefundReturn', 'RestockReturn', 'CompleteReturn', 'PublishOrderReturned'].flatMap(
  (step) => [{ step, status: 'started' as const, at }, { step, status: 'succeeded' as const, at }],
);

// afterOne is the order once one Cloud Strider went back.
const afterOne = (r = ret({ reason: 'too big', saga: returnSteps })): Order => {
  const o = order();
  return { ...o, lines: [{ ...o.lines[0], returned: 1 }, o.lines[1]], returns: [r] };
};

// afterAll is the order once everything went back (one, then the rest).
const afterAll = (): Order => {
  const o = afterOne();
  const rest = ret({ id: 'r2', lines: [{ product_id: '6', quantity: 1 }, { product_id: '5', quantity: 1 }], value: 1949.5, refund: 1949.5, refunded: 1949.5, points_reversed: 194 });
  return { ...o, lines: o.lines.map((l) => ({ ...l, returned: l.quantity })), returns: [...(o.returns ?? []), rest] };
};

async function openReturnForm() {
  fireEvent.click(await screen.findByRole('button', { name: 'Return items' }));
  return screen.findByRole('dialog', { name: 'Return items' });
}

function choose(dialog: HTMLElement, name: string, n: number) {
  fireEvent.change(within(dialog).getByLabelText(name), { target: { value: String(n) } });
}

describe('returning items of an order', () => {
  it('sends the chosen quantities with a key, then shows the refund, the returned line and the return\'s steps', async () => {
    const calls = serve((c) => (c.method === 'POST' ? json(201, afterOne()) : json(200, order())));
    renderUI(<OrderDetail id="o-1" />);
    await screen.findByText(`You can return items until ${day(inAMonth)}.`);

    const dialog = await openReturnForm();
    // The first quantity has the focus.
    await waitFor(() => expect(document.activeElement).toBe(within(dialog).getByLabelText('Cloud Strider')));
    choose(dialog, 'Cloud Strider', 1);
    fireEvent.change(within(dialog).getByLabelText('Reason (optional)'), { target: { value: 'too big' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Return 1 item' }));

    const outcome = await screen.findByTestId('return-outcome');
    expect(outcome.dataset.tone).toBe('success');
    expect(outcome.textContent).toContain('We refunded $650.00 to your wallet. 65 points the order earned were taken back.');
    const [post] = posts(calls);
    expect(post.url).toBe('/orders/o-1/returns');
    expect(post.body).toEqual({ lines: [{ product_id: '6', quantity: 1 }], reason: 'too big' });
    expect(post.headers['Content-Type']).toBe('application/json');
    expect(post.headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    expect(screen.getAllByTestId('line-returned').map((b) => b.textContent)).toEqual(['1 returned']);
    expect(screen.getByTestId('order-refunded').textContent).toBe('−$650.00');
    expect(screen.getByTestId('points-taken-back').textContent).toBe('Returns took back 65 of these points.');
    const card = screen.getByRole('article', { name: 'Return 1' });
    expect(card.textContent).toContain('1 × Cloud Strider');
    expect(card.textContent).toContain('Refunded to the wallet$650.00');
    expect(card.textContent).toContain('Points earned, taken back−65');
    expect(card.textContent).toContain('Reason: too big');
    const steps = within(card).getByRole('list', { name: 'Steps of return r1' });
    expect(within(steps).getAllByRole('listitem').map((li) => [li.textContent?.match(/^.(.*?)done/)?.[1], li.dataset.state])).toEqual([
      ['Take back points earned', 'done'],
      ['Give back points paid with', 'done'],
      ['Refund to wallet', 'done'],
      ['Put back in stock', 'done'],
      ['Complete return', 'done'],
      ['Announce return', 'done'],
    ]);
  });

  it('follows a return still under way (202) until it is done', async () => {
    const pending = afterOne(ret({ status: 'pending', refunded: undefined, kept_from_refund: undefined, saga: returnSteps.slice(0, 3) }));
    let posted = false;
    serve((c) => {
      if (c.method === 'POST') {
        posted = true;
        return json(202, pending);
      }
      return json(200, posted ? afterOne() : order());
    });
    renderUI(<OrderDetail id="o-1" />);
    const dialog = await openReturnForm();
    choose(dialog, 'Cloud Strider', 1);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Return 1 item' }));

    const outcome = await screen.findByTestId('return-outcome');
    expect(outcome.dataset.tone).toBe('pending');
    expect(screen.getByRole('article', { name: 'Return 1' }).dataset.status).toBe('pending');
    await waitFor(() => expect(screen.getByTestId('return-outcome').dataset.tone).toBe('success'), { timeout: 4000 });
    expect(screen.getByTestId('return-outcome').textContent).toContain('We refunded $650.00');
  });

  it('shows a refusal\'s detail, its field error at the quantity, and sends once while sending', async () => {
    let refuse: (r: Response) => void = () => undefined;
    const calls = serve((c) =>
      c.method === 'POST'
        ? new Promise<Response>((ok) => (refuse = ok))
        : json(200, order()),
    );
    renderUI(<OrderDetail id="o-1" />);
    const dialog = await openReturnForm();
    choose(dialog, 'Golden Mane', 1);
    const submit = within(dialog).getByRole('button', { name: 'Return 1 item' });
    fireEvent.click(submit);
    await waitFor(() => expect(submit.hasAttribute('disabled') || submit.dataset.loading === 'true').toBe(true));
    fireEvent.click(submit);
    fireEvent.submit(submit.closest('form')!);
    await waitFor(() => expect(posts(calls)).toHaveLength(1));

    refuse(json(400, {
      type: 'urn:unicorn:problem:invalid-request', title: 'Invalid request', status: 400,
      detail: 'lines[0].quantity: 0 of 5 are left to return', errors: [{ field: 'lines[0].quantity', message: '0 of 5 are left to return' }],
    }));
    const alert = await within(dialog).findByTestId('return-problem');
    expect(alert.textContent).toContain('Invalid request');
    expect(alert.textContent).toContain('lines[0].quantity: 0 of 5 are left to return');
    const input = within(dialog).getByLabelText('Golden Mane');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).getByText('0 of 5 are left to return')).toBeTruthy();
    expect(within(dialog).getByLabelText('Cloud Strider').getAttribute('aria-invalid')).not.toBe('true');
    expect(document.body.textContent).not.toContain('Something went wrong');
  });

  it('sends the same key again when the person retries the same return, and a new key for another', async () => {
    let n = 0;
    const calls = serve((c) => {
      if (c.method !== 'POST') return json(200, order());
      if (++n === 1) throw new TypeError('Failed to fetch');
      return json(201, afterOne());
    });
    renderUI(<OrderDetail id="o-1" />);
    let dialog = await openReturnForm();
    choose(dialog, 'Cloud Strider', 1);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Return 1 item' }));
    expect((await within(dialog).findByTestId('return-problem')).textContent).toContain('The store cannot be reached');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Return 1 item' }));
    await screen.findByTestId('return-outcome');
    const [first, again] = posts(calls);
    expect(again.headers['Idempotency-Key']).toBe(first.headers['Idempotency-Key']);

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    dialog = await openReturnForm();
    choose(dialog, 'Cloud Strider', 1);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Return 1 item' }));
    await waitFor(() => expect(posts(calls)).toHaveLength(3));
    expect(posts(calls)[2].headers['Idempotency-Key']).not.toBe(first.headers['Idempotency-Key']);
  });

  it('cancels the order after asking, returns all that is left, and then offers no more actions', async () => {
    const calls = serve((c) => (c.method === 'POST' ? json(201, afterAll()) : json(200, afterOne())));
    renderUI(<OrderDetail id="o-1" />);
    const cancel = await screen.findByRole('button', { name: 'Cancel order' });
    cancel.focus(); // as a click or a keypress does in a browser
    fireEvent.click(cancel);
    let dialog = await screen.findByRole('dialog', { name: 'Cancel the order?' });
    // What goes back: only what is left.
    expect(dialog.textContent).toContain('1 × Cloud Strider, 1 × Golden Mane');
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Keep the order'));
    // Closing it gives the focus back to the action.
    fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(cancel));
    expect(posts(calls)).toHaveLength(0);

    fireEvent.click(cancel);
    dialog = await screen.findByRole('dialog', { name: 'Cancel the order?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Yes, cancel the order' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Return items' })).toBeNull());
    expect(posts(calls).map((c) => c.body)).toEqual([{}]);
    expect(screen.queryByRole('button', { name: 'Cancel order' })).toBeNull();
    expect(screen.getByText('Everything in this order was returned.')).toBeTruthy();
    expect(screen.getByTestId('return-outcome').textContent).toContain('We refunded $1,949.50 to your wallet.');
    expect(screen.getAllByRole('article').map((a) => a.getAttribute('aria-label'))).toEqual(['Return 1', 'Return 2']);
    expect(screen.getByTestId('order-returned').textContent).toBe('returned');
  });

  it('says why a return was refused when the window closed meanwhile, and takes the actions away', async () => {
    let posted = false;
    serve((c) => {
      if (c.method === 'POST') {
        posted = true;
        return json(409, {
          type: 'urn:unicorn:problem:return-window-closed', title: 'Return window closed', status: 409,
          detail: 'order o-1 could be returned until 2026-04-01: the return window of the order has closed',
        });
      }
      return json(200, order({ returnable_until: posted ? lastMonth : inAMonth }));
    });
    renderUI(<OrderDetail id="o-1" />);
    const dialog = await openReturnForm();
    choose(dialog, 'Cloud Strider', 2);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Return 2 items' }));
    const alert = (await screen.findByText('Return window closed')).closest('[role=alert]')!;
    expect(alert.textContent).toContain('the return window of the order has closed');
    await screen.findByText(`Returns were possible until ${day(lastMonth)}; the return window has closed.`);
    expect(screen.queryByRole('button', { name: 'Return items' })).toBeNull();
    expect(document.body.textContent).not.toContain('Something went wrong');
  });
});

describe('the return window', () => {
  it('hides the actions from the customer once it closed', async () => {
    serve(() => json(200, order({ returnable_until: lastMonth })));
    renderUI(<OrderDetail id="o-1" />);
    await screen.findByText(`Returns were possible until ${day(lastMonth)}; the return window has closed.`);
    expect(screen.queryByRole('button', { name: 'Return items' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Cancel order' })).toBeNull();
  });

  it('leaves them to an admin, saying the window has passed', async () => {
    serve(() => json(200, order({ returnable_until: lastMonth })));
    renderUI(<OrderDetail id="o-1" admin />);
    await screen.findByText(/The customer's return window has passed/);
    expect(screen.getByRole('button', { name: 'Return items' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Cancel order' })).toBeTruthy();
  });

  it('offers nothing for an order that did not complete', async () => {
    serve(() => json(200, order({ status: 'failed', failure_code: 'OutOfStock', charged: 0, returnable_until: undefined, completed_at: undefined })));
    renderUI(<OrderDetail id="o-1" admin />);
    await screen.findByText(/Not enough of a unicorn was in stock/);
    expect(screen.queryByRole('button', { name: 'Return items' })).toBeNull();
  });
});

describe('the order as an admin reads it', () => {
  it('says whose order it is and what they bought, never in the customer\'s voice', async () => {
    serve(() => json(200, order({ id: 'o-dead3f9a01c2' })));
    renderUI(<OrderDetail id="o-dead3f9a01c2" admin />);
    await screen.findByRole('heading', { name: 'derick bought' });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Order #3F9A-01C2');
    expect(screen.getByTestId('order-customer').textContent).toBe('derick');
    expect(screen.getByTestId('order-outcome').textContent).toMatch(/derick's wallet was charged \$2,599\.50\./);
    expect(document.body.textContent).not.toMatch(/What you bought|your wallet|You earned/);
  });

  it('speaks to the customer on their own page', async () => {
    serve(() => json(200, order({ id: 'o-dead3f9a01c2' })));
    renderUI(<OrderDetail id="o-dead3f9a01c2" />);
    await screen.findByRole('heading', { name: 'What you bought' });
    expect(screen.queryByTestId('order-customer')).toBeNull();
    expect(screen.getByRole('link', { name: 'Receipt' }).getAttribute('href')).toBe('#/store/receipt/o-dead3f9a01c2');
  });
});

describe('a return that needs attention', () => {
  const stuck = afterOne(ret({
    status: 'needs_attention', refunded: undefined, failure_code: 'States.TaskFailed', failure_reason: 'the wallet store is down',
    saga: [...returnSteps.slice(0, 4), { step: 'RefundReturn', status: 'started', at }, { step: 'RefundReturn', status: 'failed', at, cause: 'the wallet store is down' },
      { step: 'MarkReturnNeedsAttention', status: 'started', at }, { step: 'MarkReturnNeedsAttention', status: 'succeeded', at }],
  }));

  it('tells the customer support will finish it, without the internals', async () => {
    serve(() => json(200, stuck));
    renderUI(<OrderDetail id="o-1" />);
    const card = await screen.findByRole('article', { name: 'Return 1' });
    expect(card.textContent).toContain('needs attention');
    expect(card.textContent).toContain('Our support team has been told');
    expect(within(card).queryByRole('button')).toBeNull();
    const steps = within(card).getAllByRole('listitem').map((li) => `${li.dataset.step}:${li.dataset.state}`);
    expect(steps).toContain('RefundReturn:failed');
    expect(steps).toContain('MarkReturnNeedsAttention:done');
  });

  it('lets an admin run it again', async () => {
    const calls = serve((c) => (c.method === 'POST' ? json(201, afterOne()) : json(200, stuck)));
    renderUI(<OrderDetail id="o-1" admin />);
    const card = await screen.findByRole('article', { name: 'Return 1' });
    expect(card.textContent).toContain('the wallet store is down');
    fireEvent.click(within(card).getByRole('button', { name: 'Run return r1 again' }));
    await waitFor(() => expect(screen.getByRole('article', { name: 'Return 1' }).dataset.status).toBe('completed'));
    expect(posts(calls).map((c) => c.url)).toEqual(['/orders/o-1/retry']);
  });
});
