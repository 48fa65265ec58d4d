// Tests keep their output readable: the in-process handlers log at ERROR and above unless a suite asks for more
// (the leak test sets POWERTOOLS_LOG_LEVEL itself before it imports anything that logs).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Metrics (EMF lines on stdout) are off as in every local run; the metrics test turns them on for its own module.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
