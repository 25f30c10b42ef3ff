// The back office's webhooks console: the endpoints the store sends the
// client's events to (each signs with a secret the admin sees once, when
// it is made or rotated), and the log of what was sent, where a delivery
// can be sent again. Removals and rotations name the version they were
// made against: if someone changed the endpoint meanwhile, the store
// refuses and the list shows it as it is.
import { Alert, Badge, Button, Checkbox, Code, CopyButton, Group, Modal, NativeSelect, NumberInput, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { Fragment, useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { Section } from '../components/States';
import { ScrollTable } from '../components/ScrollTable';
import { ApiError, errorText, request, send } from '../lib/api';
import { when } from '../lib/format';
import { useLeaveGuard } from '../lib/route';
import type { WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint, WebhookEndpointList } from '../lib/types';
import { useApi } from '../lib/useApi';
import {
  appendPage, attemptsText, deliveriesPath, dueSoon, emptyForm, endpointBody, endpointProblems, endpointRefusal, ifMatch, pageSize, replayRefusal,
  statusColor, webhookEvents, type EndpointForm, type EndpointProblems,
} from '../lib/webhooks';

type Note = { ok: boolean; text: string };
// Shown is a secret the store just made: shown once, until dismissed.
type Shown = { url: string; secret: string; rotated: boolean };

export function Webhooks() {
  const endpoints = useApi<WebhookEndpointList>('/webhooks/endpoints');
  const [secret, setSecret] = useState<Shown>();
  const [note, setNote] = useState<Note>();
  const [removing, setRemoving] = useState<WebhookEndpoint>();
  const [rotating, setRotating] = useState<WebhookEndpoint>();
  const [busy, setBusy] = useState(false);
  const list = endpoints.data?.items ?? [];
  // The secret is never shown again: leaving the page before it is saved
  // asks first.
  useLeaveGuard(secret !== undefined, 'The signing secret is shown only now. Leave without saving it?');

  async function remove(e: WebhookEndpoint) {
    setBusy(true);
    setNote(undefined);
    try {
      await send('DELETE', `/webhooks/endpoints/${encodeURIComponent(e.id)}`, undefined, { headers: ifMatch(e) });
      setNote({ ok: true, text: `${e.url} removed: it is sent nothing more.` });
    } catch (err) {
      setNote({ ok: false, text: endpointRefusal(err, 'removed') });
    } finally {
      setBusy(false);
      setRemoving(undefined);
      endpoints.reload();
    }
  }

  async function rotate(e: WebhookEndpoint) {
    setBusy(true);
    setNote(undefined);
    setSecret(undefined);
    try {
      const after = await request<WebhookEndpoint>('POST', `/webhooks/endpoints/${encodeURIComponent(e.id)}/secret`, undefined, { headers: ifMatch(e) });
      if (after.secret) setSecret({ url: after.url, secret: after.secret, rotated: true });
    } catch (err) {
      setNote({ ok: false, text: endpointRefusal(err, 'rotated') });
    } finally {
      setBusy(false);
      setRotating(undefined);
      endpoints.reload();
    }
  }

  return (
    <Stack>
      <Text c="dimmed" size="sm">
        The store sends the events an endpoint subscribes to as signed HTTPS requests (Standard Webhooks), and tries again with backoff until the
        endpoint answers 2xx.
      </Text>
      {secret && <SecretOnce shown={secret} onDone={() => setSecret(undefined)} />}
      {note && (
        <Alert color={note.ok ? 'teal' : 'red'} role={note.ok ? 'status' : 'alert'} withCloseButton onClose={() => setNote(undefined)} data-testid="webhooks-note">
          {note.text}
        </Alert>
      )}
      <Title order={2} size="h3">Endpoints</Title>
      <Section load={endpoints} isEmpty={(d) => d.items.length === 0} empty="No endpoints yet: add one to have the store send it events.">
        {(d) => (
          <ScrollTable label="Webhook endpoints table" minWidth={760}>
            <Table aria-label="Webhook endpoints" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>URL</Table.Th>
                  <Table.Th>Events</Table.Th>
                  <Table.Th>Added</Table.Th>
                  <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((e) => (
                  <Table.Tr key={e.id} data-testid="webhook-endpoint">
                    <Table.Td>
                      <Text size="sm" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{e.url}</Text>
                      {!e.active && <Badge color="gray" variant="light" size="sm">inactive</Badge>}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {e.events.map((t) => (
                          <Badge key={t} variant="light" size="sm" tt="none">{t}</Badge>
                        ))}
                      </Group>
                      {e.events.includes('points.expiring') && (
                        <Text size="xs" c="dimmed">{e.expiring_days} days before points expire</Text>
                      )}
                    </Table.Td>
                    <Table.Td><Text size="sm">{when(e.created_at)}</Text></Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap" justify="flex-end">
                        <Button size="xs" variant="default" onClick={() => setRotating(e)} aria-label={`Rotate secret of ${e.url}`}>Rotate secret</Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => setRemoving(e)} aria-label={`Remove ${e.url}`}>Remove</Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </Section>
      <AddEndpoint onAdded={(e) => {
        setNote(undefined);
        if (e.secret) setSecret({ url: e.url, secret: e.secret, rotated: false });
        endpoints.reload();
      }} />
      <Title order={2} size="h3">Delivery log</Title>
      <Deliveries endpoints={list} />
      <Modal opened={removing !== undefined} onClose={() => setRemoving(undefined)} title="Remove this endpoint?">
        <Text><Code>{removing?.url}</Code> is sent nothing more; deliveries still pending to it fail without being sent. The log keeps what was sent.</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setRemoving(undefined)}>Keep it</Button>
          <Button color="red" loading={busy} onClick={() => removing && void remove(removing)}>Remove endpoint</Button>
        </Group>
      </Modal>
      <Modal opened={rotating !== undefined} onClose={() => setRotating(undefined)} title="Rotate the signing secret?">
        <Text>
          The store signs what it sends to <Code>{rotating?.url}</Code> with a new secret from now on; the old one stops working at once, so the
          receiver must be given the new one.
        </Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setRotating(undefined)}>Cancel</Button>
          <Button loading={busy} onClick={() => rotating && void rotate(rotating)}>Rotate secret</Button>
        </Group>
      </Modal>
    </Stack>
  );
}

// SecretOnce shows a secret the store just made, with a way to copy it:
// the store never shows it again.
function SecretOnce({ shown, onDone }: { shown: Shown; onDone: () => void }) {
  return (
    <Alert color="yellow" role="status" title={shown.rotated ? 'The new signing secret' : 'The endpoint\'s signing secret'} data-testid="webhook-secret">
      <Stack gap="xs">
        <Text size="sm">
          Copy it now and give it to the receiver at <Code>{shown.url}</Code>: <strong>you will not see it again.</strong> Receivers check each
          request's <Code>webhook-signature</Code> header with it.
        </Text>
        <Group gap="xs" align="flex-end" wrap="nowrap">
          <TextInput label="Signing secret" readOnly value={shown.secret} ff="monospace" style={{ flex: 1 }} onFocus={(e) => e.currentTarget.select()} />
          <CopyButton value={shown.secret}>
            {({ copied, copy }) => (
              <Button variant="light" color={copied ? 'teal' : 'dark'} onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>
            )}
          </CopyButton>
        </Group>
        <Group>
          <Button size="xs" variant="default" onClick={onDone}>I have saved it</Button>
        </Group>
      </Stack>
    </Alert>
  );
}

export function AddEndpoint({ onAdded }: { onAdded: (e: WebhookEndpoint) => void }) {
  const [form, setForm] = useState<EndpointForm>(emptyForm);
  const [problems, setProblems] = useState<EndpointProblems>({ fields: {}, rest: [] });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const edit = (change: Partial<EndpointForm>) => setForm((f) => ({ ...f, ...change }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setProblems({ fields: {}, rest: [] });
    setError(undefined);
    try {
      const created = await request<WebhookEndpoint>('POST', '/webhooks/endpoints', endpointBody(form));
      setForm(emptyForm());
      onAdded(created);
    } catch (err) {
      const p = endpointProblems(err);
      setProblems(p);
      const placed = Object.keys(p.fields).length > 0;
      setError(p.rest.length > 0 ? `Not added: ${p.rest.join(' ')}` : placed ? 'Not added: see the fields marked below.' : `Not added: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" maw={760}>
      <form onSubmit={submit} aria-label="Add a webhook endpoint">
        <Stack>
          <Text fw={600}>Add an endpoint</Text>
          {error && <Alert color="red" role="alert" data-testid="endpoint-error">{error}</Alert>}
          <TextInput label="URL" required placeholder="https://hooks.example.com/unicorn" description="An https:// address on the internet; the store refuses private addresses."
            value={form.url} onChange={(e) => edit({ url: e.currentTarget.value })} error={problems.fields.url} />
          <Checkbox.Group label="Events" description="What the store sends it." value={form.events} onChange={(events) => edit({ events })}
            error={problems.fields.events} withAsterisk>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing={6} mt={6}>
              {webhookEvents.map((ev) => (
                <Checkbox key={ev.type} value={ev.type} label={<><Code>{ev.type}</Code> {ev.label}</>} />
              ))}
            </SimpleGrid>
          </Checkbox.Group>
          {form.events.includes('points.expiring') && (
            <NumberInput label="Days before points expire" description="When points.expiring is sent (1 to 60; 7 when left empty)." w={280}
              allowDecimal={false} value={form.expiringDays} onChange={(v) => edit({ expiringDays: v })} error={problems.fields.expiring_days} />
          )}
          <Group>
            <Button type="submit" loading={busy}>Add endpoint</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

// Deliveries is the log, newest first, of one endpoint or all. While a
// delivery shown is pending with an attempt due soon, it is read again
// every few seconds.
export function Deliveries({ endpoints, refreshEvery = 2_000 }: { endpoints: WebhookEndpoint[]; refreshEvery?: number }) {
  const [endpointId, setEndpointId] = useState('');
  const [items, setItems] = useState<WebhookDelivery[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [sending, setSending] = useState<string>();
  const [note, setNote] = useState<Note>();
  // Only the last read (or replay) started writes what is shown.
  const latest = useRef(0);

  // reload reads the log from its start again: as many as are shown, so
  // that a refresh keeps what "Load more" added.
  const reload = useCallback(
    async (limit: number) => {
      const ticket = ++latest.current;
      try {
        const page = await request<WebhookDeliveryPage>('GET', deliveriesPath(endpointId, undefined, limit));
        if (ticket !== latest.current) return;
        setItems(page.items);
        setCursor(page.next_cursor);
        setError(undefined);
      } catch (e) {
        if (ticket === latest.current) setError(e);
      }
    },
    [endpointId],
  );

  useEffect(() => {
    setItems(undefined);
    setCursor(undefined);
    void reload(pageSize);
  }, [reload]);

  const shown = items?.length ?? 0;
  const awaited = items?.some((d) => dueSoon(d)) ?? false;
  useEffect(() => {
    if (!awaited) return;
    const t = setTimeout(() => void reload(Math.max(pageSize, shown)), refreshEvery);
    return () => clearTimeout(t);
  }, [awaited, shown, items, reload, refreshEvery]);

  async function more() {
    if (!cursor) return;
    const ticket = ++latest.current;
    setLoadingMore(true);
    try {
      const page = await request<WebhookDeliveryPage>('GET', deliveriesPath(endpointId, cursor, pageSize));
      if (ticket !== latest.current) return;
      setItems((xs) => appendPage(xs ?? [], page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      if (ticket === latest.current) setNote({ ok: false, text: `Could not load more: ${errorText(e)}` });
    } finally {
      setLoadingMore(false);
    }
  }

  async function replay(d: WebhookDelivery) {
    ++latest.current; // a read under way would show the delivery as it was
    setSending(d.id);
    setNote(undefined);
    try {
      const after = await request<WebhookDelivery>('POST', `/webhooks/deliveries/${encodeURIComponent(d.id)}/replay`);
      setItems((xs) => xs?.map((x) => (x.id === after.id ? after : x)));
      setNote({ ok: true, text: `Sending ${d.event_type} ${d.event_id} again to ${urlOf(d.endpoint_id)}.` });
    } catch (e) {
      setNote({ ok: false, text: replayRefusal(e) });
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) void reload(Math.max(pageSize, shown));
    } finally {
      setSending(undefined);
    }
  }

  const urlOf = (id: string) => endpoints.find((e) => e.id === id)?.url ?? `${id} (removed)`;
  const options = [{ value: '', label: 'All endpoints' }, ...endpoints.map((e) => ({ value: e.id, label: e.url }))];
  if (endpointId && !endpoints.some((e) => e.id === endpointId)) options.push({ value: endpointId, label: `${endpointId} (removed)` });

  return (
    <Stack>
      <Group align="flex-end">
        <NativeSelect label="Deliveries to" data={options} value={endpointId} onChange={(e) => setEndpointId(e.currentTarget.value)} w={360} />
        <Button variant="default" onClick={() => void reload(Math.max(pageSize, shown))}>Refresh</Button>
      </Group>
      {note && (
        <Alert color={note.ok ? 'teal' : 'red'} role={note.ok ? 'status' : 'alert'} withCloseButton onClose={() => setNote(undefined)} data-testid="deliveries-note">
          {note.text}
        </Alert>
      )}
      <Section load={{ data: items, error, loading: items === undefined, reload: () => void reload(Math.max(pageSize, shown)) }}
        isEmpty={(d) => d.length === 0} empty={endpointId ? 'Nothing was sent to this endpoint yet.' : 'Nothing was sent yet.'}>
        {(list) => (
          <ScrollTable label="Deliveries table" minWidth={820}>
            <Table aria-label="Deliveries" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Event</Table.Th>
                  <Table.Th>Endpoint</Table.Th>
                  <Table.Th miw={110}>Status</Table.Th>
                  <Table.Th>Attempts</Table.Th>
                  <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((d, i) => {
                  const payloadId = `delivery-payload-${i}`;
                  return (
                    <Fragment key={d.id}>
                      <Table.Tr data-testid="delivery" data-status={d.status} data-event={d.event_type}>
                        <Table.Td><Text size="sm">{when(d.created_at)}</Text></Table.Td>
                        <Table.Td>
                          <Text size="sm" ff="monospace">{d.event_type}</Text>
                          <Text size="xs" c="dimmed">{d.event_id}</Text>
                        </Table.Td>
                        <Table.Td><Text size="sm" style={{ overflowWrap: 'anywhere' }}>{urlOf(d.endpoint_id)}</Text></Table.Td>
                        <Table.Td>
                          <Badge color={statusColor[d.status]} variant="light" data-testid="delivery-status">{d.status}</Badge>
                        </Table.Td>
                        <Table.Td><Text size="sm">{attemptsText(d)}</Text></Table.Td>
                        <Table.Td>
                          <Group gap={4} wrap="nowrap" justify="flex-end">
                            <Button size="xs" variant="subtle" aria-expanded={!!open[d.id]} aria-controls={payloadId}
                              onClick={() => setOpen((o) => ({ ...o, [d.id]: !o[d.id] }))}>
                              {open[d.id] ? 'Hide payload' : 'Payload'}
                            </Button>
                            <Button size="xs" variant="light" loading={sending === d.id} onClick={() => void replay(d)}>
                              Send again
                            </Button>
                          </Group>
                        </Table.Td>
                      </Table.Tr>
                      <Table.Tr id={payloadId} hidden={!open[d.id]}>
                        <Table.Td colSpan={6}>
                          {open[d.id] && (
                            <Code block data-testid="delivery-payload">
                              {JSON.stringify(d.payload, null, 2)}
                            </Code>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    </Fragment>
                  );
                })}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </Section>
      {cursor && (
        <Group>
          <Button variant="default" loading={loadingMore} onClick={() => void more()}>Load more</Button>
        </Group>
      )}
    </Stack>
  );
}
