/**
 * The policy kinds a run can use, by name. Each kind registers one factory here; the trainer, the base-policy
 * warm-up, validation and `durian proxy` create policies only through `policyFactory(kind)`.
 */
import { DurianInputError } from '../../core/index.js';
import type { PolicyFactory } from './policy.js';

const FACTORIES = new Map<string, PolicyFactory>();

/** Adds a kind (kinds.ts registers each); registering the same factory again changes nothing. */
export function registerPolicy(factory: PolicyFactory): void {
  const known = FACTORIES.get(factory.kind);
  if (known === factory) return;
  if (known) throw new Error(`two policy factories are registered as kind '${factory.kind}'`);
  FACTORIES.set(factory.kind, factory);
}

/** The factory of a kind; an unknown kind is a user error naming the kinds there are. */
export function policyFactory(kind: string): PolicyFactory {
  const factory = FACTORIES.get(kind);
  if (!factory) throw new DurianInputError('policy', `unknown policy ${JSON.stringify(kind)}: use one of ${[...FACTORIES.keys()].join(', ')}`);
  return factory;
}

export function policyKinds(): string[] {
  return [...FACTORIES.keys()];
}
