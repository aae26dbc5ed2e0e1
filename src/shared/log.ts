// Daemons log one line per event to stderr; the service manager (or the test) keeps it.
export function logger(component: string): (message: string) => void {
  return (message) => process.stderr.write(`${component}: ${message}\n`);
}
