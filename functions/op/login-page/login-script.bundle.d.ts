/** Written by write-login-script.ts at build time (absent when running from sources). */
declare const script: string;
export default script;
