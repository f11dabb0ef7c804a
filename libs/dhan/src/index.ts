export const DHAN = 1;
