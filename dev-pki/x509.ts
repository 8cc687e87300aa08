/**
 * @peculiar/x509, loaded after the Reflect polyfill its dependency injection (tsyringe) needs.
 * Import x509 from here, never from the package directly.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
