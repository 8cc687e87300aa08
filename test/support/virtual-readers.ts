/** Simulated cards for card-service tests: a non-JPKI card and a JPKI card with an APDU hook. */
import type { SimulatedCard } from '../../reader-helper/virtual-card/in-process-backend.js';
import type { VirtualJpkiCard } from '../../reader-helper/virtual-card/virtual-jpki-card.js';

/** A card without the JPKI application (a bank or transit card): 6A 82 to every SELECT, 6D 00 else. */
export function otherCard(): SimulatedCard & { apdus: number } {
  return {
    atr: Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01),
    apdus: 0,
    reset() {},
    transmit(apdu) {
      this.apdus += 1;
      return apdu[1] === 0xa4 ? Uint8Array.of(0x6a, 0x82) : Uint8Array.of(0x6d, 0x00);
    },
  };
}

/** `card` with `hook` called before each APDU reaches it (to remove the card or abort mid-operation). */
export function hooked(card: VirtualJpkiCard, hook: (apdu: Uint8Array) => void): SimulatedCard {
  return {
    atr: card.atr,
    reset: () => card.reset(),
    transmit(apdu) {
      hook(apdu);
      return card.transmit(apdu);
    },
  };
}

/** INS bytes, to recognise commands in hooks. */
export const INS_VERIFY = 0x20;
export const INS_SIGN = 0x2a;
