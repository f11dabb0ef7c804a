/** Injection token of the loaded WebBundle. */
export const WEB_BUNDLE = Symbol('WEB_BUNDLE');
