// kill -9 at random moments, second half: ten more applies, another seed (see support/stress.ts).
import { killAtRandom } from "./support/stress.js";

killAtRandom(10, 1);
