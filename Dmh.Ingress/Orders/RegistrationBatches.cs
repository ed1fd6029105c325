using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Orders;

public sealed class RegistrationBatchOptions
{
    public const string SectionName = "Registration";

    /// <summary>
    /// How many batches are written at once. Fewer writers make bigger batches under load; a
    /// registration that finds a writer idle is written at once, alone, so a quiet system waits for nothing.
    /// </summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 2;

    /// <summary>The most registrations one batch (one transaction, one round trip) takes. 1 writes each alone.</summary>
    [Range(1, 200)]
    public int MaxBatch { get; set; } = 50;
}

/// <summary>
/// Registrations written in batches (issue 23). A registration costs MariaDB more in its transaction
/// and round trip (the reply packets, the thread pool, the connection reset, the commit) than in its
/// inserts, so the registrations that arrive while a batch is being written go together in the next:
/// one connection, one round trip, one commit for all of them (<see cref="OrderStore.RegisterBatchAsync"/>).
/// Each keeps its own outcome on the unique keys. A batch that fails (a deadlock with another batch, a
/// lock wait) is rolled back whole and each of its registrations is written alone with the usual
/// retries, so one bad registration costs the others a retry, never their answer.
/// </summary>
public sealed class RegistrationBatches(OrderStore orders, IOptions<RegistrationBatchOptions> options, ILogger<RegistrationBatches> logger)
    : IHostedService
{
    private sealed record Pending(NewOrder Order, CancellationToken Cancellation)
    {
        public TaskCompletionSource<Registration> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly RegistrationBatchOptions _options = options.Value;
    private Task[] _writers = [];

    /// <summary>Registers as <see cref="OrderStore.RegisterAsync"/> does, in a batch with the registrations arriving meanwhile.</summary>
    public Task<Registration> RegisterAsync(NewOrder order, CancellationToken ct)
    {
        var pending = new Pending(order, ct);
        if (!_queue.Writer.TryWrite(pending))
        {
            // Shutting down: nothing reads the queue any more.
            return orders.RegisterAsync(order, ct);
        }

        return pending.Done.Task.WaitAsync(ct);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writers = [.. Enumerable.Range(0, _options.Writers).Select(_ => Task.Run(WriteAsync, CancellationToken.None))];
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The queued registrations are still written: their callers are waiting for the answer.
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).WaitAsync(cancellationToken);
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(_options.MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                if (pending.Cancellation.IsCancellationRequested)
                {
                    pending.Done.TrySetCanceled(pending.Cancellation);
                    continue;
                }

                batch.Add(pending);
            }

            if (batch.Count == 1)
            {
                await WriteAloneAsync(batch[0]);
            }
            else if (batch.Count > 1)
            {
                await WriteBatchAsync(batch);
            }
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        Registration?[] written;
        try
        {
            written = await orders.RegisterBatchAsync([.. batch.Select(p => p.Order)], CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Whatever failed (a deadlock with another batch, a lost connection), each registration is tried
            // alone: those that fail again answer their own caller with their own error.
            logger.LogInformation(ex, "A batch of {Count} registrations was rolled back; each is written alone", batch.Count);
            await Task.WhenAll(batch.Select(WriteAloneAsync));
            return;
        }

        var again = new List<Pending>();
        for (var i = 0; i < batch.Count; i++)
        {
            if (written[i] is { } registration)
            {
                batch[i].Done.TrySetResult(registration);
            }
            else
            {
                again.Add(batch[i]);
            }
        }

        await Task.WhenAll(again.Select(WriteAloneAsync));
    }

    private async Task WriteAloneAsync(Pending pending)
    {
        try
        {
            pending.Done.TrySetResult(await orders.RegisterAsync(pending.Order, pending.Cancellation));
        }
        catch (OperationCanceledException) when (pending.Cancellation.IsCancellationRequested)
        {
            pending.Done.TrySetCanceled(pending.Cancellation);
        }
        catch (Exception ex)
        {
            pending.Done.TrySetException(ex);
        }
    }
}
