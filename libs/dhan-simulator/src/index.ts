import { DHAN } from '@app/dhan';
export const SIM = DHAN + 1;
