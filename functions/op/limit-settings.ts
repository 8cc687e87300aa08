/**
 * The numbers of the login limits (interactions/limits.ts) as configuration: a module of its own, so
 * the configuration and environment readers (also used by the notification Lambda) do not load the
 * interaction code.
 */
import { LOGIN_LIMITS } from '../defaults.js';

/** The numbers of LOGIN_LIMITS, each overridable (OpConfig.limits). */
export interface LoginLimitSettings {
  readonly answersPerInteraction: number;
  readonly challengesPerInteraction: number;
  readonly interactionsPerAddressPerMinute: number;
}

/** LOGIN_LIMITS with `overrides`; throws RangeError naming a setting that is not a positive integer. */
export function loginLimitSettings(overrides: Partial<LoginLimitSettings> = {}): LoginLimitSettings {
  const settings = { ...LOGIN_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`limits.${name} must be a positive integer`);
  }
  return settings;
}
