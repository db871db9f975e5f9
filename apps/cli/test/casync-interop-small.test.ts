import { describeCasyncInterop, SHAPES } from './casync-interop-suite.js';

describeCasyncInterop('casync interop on small files', [
  SHAPES.empty,
  SHAPES.oneByte,
  SHAPES.thousandBytes,
  SHAPES.exactly64KiB,
]);
