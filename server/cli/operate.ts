// Runs an operation on the live server when one runs on the data dir, else on an offline core.
import { operations, type OperationName } from '../admin/operations'
import { askServer } from '../control'
import { withOfflineCore } from '../core'
import { StoreLayout } from '../store/layout'

type Result<N extends OperationName> = Awaited<ReturnType<(typeof operations)[N]>>
type Args<N extends OperationName> = Parameters<(typeof operations)[N]>[1]

export async function operate<N extends OperationName>(dataDir: string, name: N, args: Args<N>): Promise<Result<N>> {
  const online = await askServer<Result<N>>(new StoreLayout(dataDir), `/op/${name}`, args)
  if (online !== undefined) return online
  return withOfflineCore(dataDir, (core) => operations[name]({ core, listeners: [], offline: true }, args as never) as Promise<Result<N>>)
}
