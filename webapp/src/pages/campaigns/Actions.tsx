// What a marketer does to a saved campaign as a whole, beside editing it:
// activate or pause, duplicate under a new name, archive (pause and end
// its schedule, hidden from the list) or bring back, and delete.
import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { ApiError, errorText, send } from '../../lib/api';
import { archivePatch, draftText, isArchived, problemsOf, unarchivePatch } from '../../lib/campaigns';
import type { Campaign } from '../../lib/types';
import { campaignPath, q } from './List';

type Props = {
  campaign: Campaign;
  busy: boolean;
  // change PATCHes the campaign and says done; false when refused (it says why).
  change: (patch: Record<string, unknown>, done: (c: Campaign) => string) => Promise<boolean>;
  onDuplicated: (copy: Campaign) => void;
  onDeleted: () => void;
};

export function CampaignActions({ campaign: c, busy, change, onDuplicated, onDeleted }: Props) {
  const [dialog, setDialog] = useState<'duplicate' | 'delete'>();
  const archived = isArchived(c);
  return (
    <Group gap="xs">
      {!archived &&
        (c.status === 'active' ? (
          <Button variant="default" loading={busy} onClick={() => void change({ status: 'paused' }, (s) => `Campaign paused (version ${s.version}).`)}>
            Pause
          </Button>
        ) : (
          <Button color="teal" loading={busy} onClick={() => void change({ status: 'active' }, (s) => `Campaign activated (version ${s.version}).`)}>
            Activate
          </Button>
        ))}
      <Button variant="default" onClick={() => setDialog('duplicate')}>
        Duplicate
      </Button>
      {archived ? (
        <Button variant="default" loading={busy}
          onClick={() => void change(unarchivePatch, (s) => `Brought back from the archive (version ${s.version}): it stays paused until you activate it.`)}>
          Unarchive
        </Button>
      ) : (
        <Button variant="default" loading={busy}
          onClick={() => void change(archivePatch(c), (s) => `Archived (version ${s.version}): paused, its schedule ended now, and hidden from the list unless “Show archived” is on.`)}>
          Archive
        </Button>
      )}
      <Button variant="outline" color="red" onClick={() => setDialog('delete')}>
        Delete
      </Button>
      <DuplicateDialog campaign={c} opened={dialog === 'duplicate'} onClose={() => setDialog(undefined)} onDone={onDuplicated} />
      <DeleteDialog campaign={c} opened={dialog === 'delete'} onClose={() => setDialog(undefined)} onDone={onDeleted} />
    </Group>
  );
}

function DuplicateDialog({ campaign: c, opened, onClose, onDone }: { campaign: Campaign; opened: boolean; onClose: () => void; onDone: (copy: Campaign) => void }) {
  const [name, setName] = useState(`${c.campaign_name}-copy`);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function duplicate() {
    setBusy(true);
    setError(undefined);
    try {
      // A copy starts paused: two active copies would give their points twice.
      const res = await send<Campaign>('POST', '/campaigns', { ...JSON.parse(draftText(c)), campaign_name: name.trim(), status: 'paused' });
      onDone(res.body);
    } catch (e) {
      const p = problemsOf(e, '');
      const at = p.draft.find((x) => x.field === 'campaign_name');
      setError(e instanceof ApiError && e.status === 409 ? `${c.client} already has a campaign named “${name.trim()}”: choose another name.` : at?.message ?? errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal opened={opened} onClose={onClose} title={`Duplicate ${c.campaign_name}`}>
      <form onSubmit={(e) => { e.preventDefault(); void duplicate(); }}>
        <Stack>
          <Text size="sm">A copy of the saved version {c.version}, under a new name. It starts paused.</Text>
          <TextInput label="Name of the copy" value={name} onChange={(e) => setName(e.currentTarget.value)} error={error} data-autofocus required />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={busy}>Create the copy</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteDialog({ campaign: c, opened, onClose, onDone }: { campaign: Campaign; opened: boolean; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function remove() {
    setBusy(true);
    setError(undefined);
    try {
      await send('DELETE', `${campaignPath(c.campaign_name)}?${q(c.client)}`, undefined, { headers: { 'If-Match': `"${c.version}"` } });
      onDone();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 412 ? 'Someone changed this campaign meanwhile: close this, look at their version, then delete again.' : `Not deleted: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal opened={opened} onClose={onClose} title={`Delete ${c.campaign_name}?`}>
      <Stack>
        <Text size="sm">
          Purchases stop earning points from it at once. Its versions stay in the history; to keep it out of the way
          without deleting it, archive it instead.
        </Text>
        {error && <Text size="sm" c="red.8" role="alert">{error}</Text>}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>Cancel</Button>
          <Button color="red" loading={busy} onClick={() => void remove()}>Delete {c.campaign_name}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
