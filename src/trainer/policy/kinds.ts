/**
 * Registers every policy kind a run can name (`durian train --policy KIND`, the `policy` setting). Import
 * this module (not the kinds' own) before calling `policyFactory`; the settings table's POLICY_KINDS lists
 * the same names (test/trainer/policy/kinds.test.ts).
 */
import { countingPolicyFactory } from './counting.js';
import { GENERAL_POLICY } from './general/index.js';
import { policyFactory, policyKinds, registerPolicy } from './registry.js';

registerPolicy(countingPolicyFactory);
registerPolicy(GENERAL_POLICY);

export { policyFactory, policyKinds };
