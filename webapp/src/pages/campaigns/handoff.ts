// What one view of the campaign console hands to the next across a move
// (the shell mounts a new page on every address): the confirmation of a
// creation or a deletion, and the editor's sample purchase and simulation,
// so that creating a campaign does not lose them.
import type { Evaluation } from '../../lib/types';

export type Notice = { ok: boolean; text: string; aboutDraft?: boolean };

export type Simulated = { result: Evaluation; text: string; event: string; withActive: boolean };

export type Handoff = { notice?: Notice; event?: string; simulation?: Simulated; withActive?: boolean };

const pending = new Map<string, Handoff>();

// handOff leaves h for the view at where ("list", or a campaign's name).
export function handOff(where: string, h: Handoff) {
  pending.set(where, h);
}

// peekHandoff returns what was left for where; dropHandoff forgets it once
// the view has it (two steps: React may run a state initializer twice).
export function peekHandoff(where: string): Handoff | undefined {
  return pending.get(where);
}

export function dropHandoff(where: string) {
  pending.delete(where);
}
