/** The login script's bundle entry (login-script.ts): starts the page's DOM binding. */
import { startLoginPage } from './login-page.js';

startLoginPage(window);
