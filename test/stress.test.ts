// kill -9 at random moments, first half: ten applies killed at seeded points (see support/stress.ts).
import { killAtRandom } from "./support/stress.js";

killAtRandom(10, 0);
