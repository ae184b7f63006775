// A Node test reporter that counts finished tests (not suites) and prints one JSON object. It
// counts as Node's own summary does; a suite whose tests all need a missing tool skips each test
// (with the reason), so every one of them is counted as skipped.
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 }
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const data = event.data
    if (data.details?.type === 'suite') {
      // a suite that failed outside its tests (a hook, a crash) counts as one failure
      if (event.type === 'test:fail' && data.details?.error?.failureType !== 'subtestsFailed') counts.failed++
      continue
    }
    if (event.type === 'test:fail') counts.failed++
    else if (data.skip || data.todo) counts.skipped++
    else counts.passed++
  }
  yield JSON.stringify(counts)
}
