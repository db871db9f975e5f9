import { describeCasyncInterop, SHAPES } from './casync-interop-suite.js';

describeCasyncInterop('casync interop on medium files', [SHAPES.random3MiB, SHAPES.mixed8MiB]);
