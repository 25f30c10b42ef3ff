// Every order, newest first, a page at a time, filtered by status and by
// customer. The store lists every order, a customer's, or the ones that
// need attention or are in progress; a status list is narrowed to a
// customer here. An order that needs attention can be run again.
import { Button, Group, NativeSelect, Stack, Text } from '@mantine/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Empty, ErrorNote, Loading } from '../../components/States';
import { errorText, get, retryOrder } from '../../lib/api';
import { statusFilters, type StatusFilter } from '../../lib/backoffice';
import { orderNumber } from '../../lib/format';
import type { Order, OrderPage } from '../../lib/types';
import { useApi } from '../../lib/useApi';
import type { components } from '../../lib/api-types';
import { statusWord } from '../Orders';
import { OrderTable } from './Customers';
import { NoteAlert, type Note } from './parts';

type UserList = components['schemas']['UserList'];

const pageSize = 20;

// A list being read: what is shown, and how to read the next page (none
// on the last).
type Listing = { items: Order[]; next?: () => Promise<Listing> };

// listing reads the first page of the orders the filters ask for.
function listing(status: StatusFilter, customer: string): Promise<Listing> {
  // The store lists an order status across customers in pages of its own
  // order; a customer's are picked out of each page.
  const query = status ? `status=${status}` : `${customer ? `user_id=${encodeURIComponent(customer)}&` : ''}limit=${pageSize}`;
  const more = async (cursor?: string): Promise<Listing> => {
    const page = await get<OrderPage>(`/orders?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const after = page.next_cursor;
    const items = status && customer ? page.items.filter((o) => o.user_id === customer) : page.items;
    return { items, next: after ? () => more(after) : undefined };
  };
  return more();
}

export function AllOrders() {
  const users = useApi<UserList>('/users');
  const customers = users.data ? users.data.items.filter((u) => u.role === 'customer').map((u) => u.username) : undefined;
  const [status, setStatus] = useState<StatusFilter>('');
  const [customer, setCustomer] = useState('');
  const [items, setItems] = useState<Order[]>();
  const [next, setNext] = useState<() => Promise<Listing>>();
  const [error, setError] = useState<unknown>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [note, setNote] = useState<Note>();
  const [retrying, setRetrying] = useState<string>();
  // Only the last read started shows what it read.
  const latest = useRef(0);

  const load = useCallback(async () => {
    const ticket = ++latest.current;
    setItems(undefined);
    setError(undefined);
    try {
      const l = await listing(status, customer);
      if (ticket !== latest.current) return;
      setItems(l.items);
      setNext(() => l.next);
    } catch (e) {
      if (ticket === latest.current) setError(e);
    }
  }, [status, customer]);
  useEffect(() => void load(), [load]);

  async function more() {
    if (!next) return;
    const ticket = latest.current;
    setLoadingMore(true);
    try {
      const l = await next();
      if (ticket !== latest.current) return;
      setItems((xs) => [...(xs ?? []), ...l.items]);
      setNext(() => l.next);
    } catch (e) {
      setNote({ ok: false, text: `Could not load more orders: ${errorText(e)}` });
    } finally {
      setLoadingMore(false);
    }
  }

  async function retry(o: Order) {
    setRetrying(o.id);
    setNote(undefined);
    try {
      const after = (await retryOrder(o.id)).body;
      setNote({ ok: true, text: `Order ${orderNumber(o.id)} ran again: it is now ${statusWord[after.status]}.` });
      void load();
    } catch (e) {
      setNote({ ok: false, text: `Order ${orderNumber(o.id)} did not run again: ${errorText(e)}` });
    } finally {
      setRetrying(undefined);
    }
  }

  const loadError = users.error ?? error;
  const filtered = status !== '' || customer !== '';
  return (
    <Stack>
      <Text c="dimmed" size="sm">
        Every order, newest first (filtered by status: in the store's order). Orders that need attention are those whose undoing failed even after retries: fix the cause (a wallet, the
        stock), then run them again.
      </Text>
      <Group align="flex-end" data-testid="order-filters">
        <NativeSelect label="Status" w={200} data={statusFilters} value={status} onChange={(e) => setStatus(e.currentTarget.value as StatusFilter)} />
        <NativeSelect label="Customer" w={220} value={customer} onChange={(e) => setCustomer(e.currentTarget.value)}
          data={[{ value: '', label: 'All customers' }, ...(customers ?? []).map((u) => ({ value: u, label: u }))]} />
        {filtered && <Button variant="subtle" onClick={() => { setStatus(''); setCustomer(''); }}>Clear filters</Button>}
      </Group>
      <NoteAlert note={note} onClose={() => setNote(undefined)} testId="orders-note" />
      {loadError !== undefined && <ErrorNote error={loadError} onRetry={() => (users.error ? users.reload() : void load())} />}
      {items === undefined && loadError === undefined && <Loading label="Loading orders…" />}
      {items?.length === 0 && (
        <Empty>{status === 'needs_attention' ? 'Nothing needs attention.' : filtered ? 'No orders match these filters.' : 'No orders yet.'}</Empty>
      )}
      {items && items.length > 0 && (
        <OrderTable orders={items} label="Orders" action={(o) => o.status === 'needs_attention' && (
          <Button size="xs" loading={retrying === o.id} onClick={() => void retry(o)} aria-label={`Retry order ${orderNumber(o.id)}`}>Retry</Button>
        )} />
      )}
      {next && items && (
        <Group>
          <Button variant="default" loading={loadingMore} onClick={() => void more()}>Older orders</Button>
        </Group>
      )}
    </Stack>
  );
}
