/** Five or more digits, possibly grouped by spaces, dots, dashes or brackets, as said numbers are. */
const NUMBER_RUN = /\+?\d(?:[\s().-]*\d){4,}/g;

/**
 * What transcripts and DTMF keep of the numbers said or keyed, when redaction is on (it follows
 * `LOG_REDACT_SIP`, as the routing log line does): every digit but the last four of a run of
 * five or more is masked, so phone, card and account numbers do not end up in the record.
 */
export function redactNumbers(text: string): string {
  return text.replace(NUMBER_RUN, (run) => {
    let keep = 4;
    const chars = [...run];
    for (let i = chars.length - 1; i >= 0; i--) {
      if (!/\d/.test(chars[i])) continue;
      if (keep > 0) keep--;
      else chars[i] = '*';
    }
    return chars.join('');
  });
}
