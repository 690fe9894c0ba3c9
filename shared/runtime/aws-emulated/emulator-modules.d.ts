// The emulators ship no types; the harness uses a few entry points (see aws-emulators.ts).
declare module 'dynalite';
declare module 's3rver';
