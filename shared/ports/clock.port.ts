/** Time source. Production reads the system clock; tests and the demo move a settable one across days. */
export interface Clock {
  now(): Date;
}
