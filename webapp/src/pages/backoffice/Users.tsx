// The people who sign in to this store, and adding one with a role. Where
// people are managed at an identity provider, the store says so.
import { Anchor, Button, Group, NativeSelect, Paper, PasswordInput, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Section } from '../../components/States';
import { ApiError, errorText, request } from '../../lib/api';
import { fieldErrors } from '../../lib/backoffice';
import { day } from '../../lib/format';
import type { components } from '../../lib/api-types';
import { useApi } from '../../lib/useApi';
import { ScrollTable } from '../../components/ScrollTable';
import { NoteAlert, type Note } from './parts';

type Schemas = components['schemas'];
type UserList = Schemas['UserList'];
type User = Schemas['User'];
type Role = Schemas['Role'];

const roles: { value: Role; label: string }[] = [
  { value: 'customer', label: 'Customer: shops and earns points' },
  { value: 'marketer', label: 'Marketer: runs the points campaigns' },
  { value: 'admin', label: 'Admin: runs the back office' },
];

export function Users() {
  const users = useApi<UserList>('/users');
  const [note, setNote] = useState<Note>();
  return (
    <Stack>
      <NoteAlert note={note} onClose={() => setNote(undefined)} testId="users-note" />
      <Title order={2} size="h4">Users</Title>
      <Section load={users} isEmpty={(d) => d.items.length === 0} empty="No users yet.">
        {(d) => (
          <ScrollTable label="Users table" minWidth={420}>
            <Table aria-label="Users" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Username</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Added</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((u) => (
                  <Table.Tr key={u.username} data-testid="user">
                    <Table.Td>
                      {u.role === 'customer' ? <Anchor href={`#/admin/customers/${encodeURIComponent(u.username)}`}>{u.username}</Anchor> : u.username}
                    </Table.Td>
                    <Table.Td>{u.role}</Table.Td>
                    <Table.Td>{u.created_at ? day(u.created_at) : ''}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </Section>
      <AddUser onAdded={(u) => { setNote({ ok: true, text: `${u.username} added as ${u.role === 'admin' ? 'an admin' : `a ${u.role}`}: they can sign in now.` }); users.reload(); }} />
    </Stack>
  );
}

function AddUser({ onAdded }: { onAdded: (u: User) => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('customer');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      const u = await request<User>('POST', '/users', { username: username.trim(), role, password });
      setUsername('');
      setPassword('');
      onAdded(u);
    } catch (err) {
      const placed = fieldErrors(err);
      setErrors(placed);
      if (Object.keys(placed).length === 0) {
        setError(err instanceof ApiError && err.status === 409 ? `Not added: ${err.message}.` : `Not added: ${errorText(err)}`);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" maw={560}>
      <form onSubmit={submit} aria-label="Add a user" noValidate>
        <Stack>
          <Title order={2} size="h4">Add a user</Title>
          {error && <NoteAlert note={{ ok: false, text: error }} />}
          <TextInput label="Username" required description="Letters, digits and . _ @ : - (a customer's username is also their points account)."
            value={username} onChange={(e) => setUsername(e.currentTarget.value)} error={errors.username} autoComplete="off" />
          <NativeSelect label="Role" data={roles} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} error={errors.role} />
          <PasswordInput label="Password" required description="At least 12 characters. Give it to them another way than this store."
            value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={errors.password} autoComplete="new-password" />
          <Group>
            <Button type="submit" loading={busy}>Add user</Button>
          </Group>
          <Text size="xs" c="dimmed">People added here sign in with the username and password at once.</Text>
        </Stack>
      </form>
    </Paper>
  );
}
