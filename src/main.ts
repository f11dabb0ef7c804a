import { SIM } from '@app/dhan-simulator';
console.log('hello', SIM);
