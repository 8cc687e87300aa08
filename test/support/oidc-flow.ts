/**
 * Drive the OP like a browser and a relying party would: the scripted browser, virtual card and
 * login steps live in the product (local/scripted-login.ts, the bench uses them too).
 */
export * from '../../local/scripted-login.js';
