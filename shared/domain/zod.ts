import { z } from 'zod';

// One place sets how schema violations read, for every schema of the service: "is required" says more to a
// publisher than "expected string, received undefined".
z.config({
  customError: (issue) =>
    issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined,
});

export { z };
