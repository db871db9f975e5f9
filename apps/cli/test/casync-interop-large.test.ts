import { describeCasyncInterop, SHAPES } from './casync-interop-suite.js';

// Large enough that the parallel chunker cuts the file into several sections.
describeCasyncInterop('casync interop on a large file', [SHAPES.mixed40MiB]);
