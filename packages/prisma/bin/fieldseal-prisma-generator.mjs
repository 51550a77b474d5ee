#!/usr/bin/env node
// The fieldseal Prisma generator (`generator fieldseal { provider = "fieldseal-prisma-generator" }`).
import { runGenerator } from '../dist/lib/generator-main.js';

await runGenerator();
