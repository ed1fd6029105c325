using System.Data.Common;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Dmh.Syncer.Target;

/// <summary>What became of a batch: rows in the target, rows the target refused (with why), rows to try later.</summary>
public sealed class WriteResult
{
    public List<long> Written { get; } = [];

    public Dictionary<long, string> Rejected { get; } = [];

    public List<long> Deferred { get; } = [];

    public string? DeferredError { get; set; }
}

/// <summary>
/// Writes mapped rows with the dialect's idempotent INSERT under a Polly pipeline (retry with
/// exponential backoff and jitter on transient errors, a circuit breaker while the target is down,
/// a timeout per attempt). A batch the target refuses is retried row by row, so one bad row does
/// not hold back the others.
/// </summary>
public sealed class TargetWriter
{
    private readonly TargetConnectionFactory _connections;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger<TargetWriter> _logger;

    public TargetWriter(TargetConnectionFactory connections, ResilienceSettings settings, TimeProvider time, ILogger<TargetWriter> logger)
    {
        _connections = connections;
        _logger = logger;
        // An open circuit is not retried here: the rows are deferred and come back when due.
        var transient = new PredicateBuilder().Handle<Exception>(ex => ex is not BrokenCircuitException && IsTransient(ex));
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.BaseDelay,
                MaxDelay = settings.MaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    _logger.LogWarning("Target write attempt {Attempt} failed; retrying in {Delay}: {Error}", args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = settings.BreakerFailureRatio,
                SamplingDuration = settings.BreakerSamplingDuration,
                MinimumThroughput = settings.BreakerMinimumThroughput,
                BreakDuration = settings.BreakerBreakDuration,
                OnOpened = args =>
                {
                    _logger.LogWarning("Target circuit opened for {Break}", args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(settings.AttemptTimeout)
            .Build();
    }

    public SqlDialect Dialect => _connections.Dialect;

    public bool IsTransient(Exception ex) =>
        ex is TimeoutRejectedException or BrokenCircuitException || _connections.Dialect.IsTransient(ex);

    public async Task<WriteResult> WriteAsync(FieldMapper mapper, IReadOnlyList<(long Id, object?[] Values)> rows, CancellationToken ct)
    {
        var result = new WriteResult();
        var unique = rows.DistinctBy(r => r.Id).ToList();
        if (unique.Count == 0)
        {
            return result;
        }

        try
        {
            await ExecuteAsync(mapper, unique.Select(r => r.Values).ToList(), ct);
            result.Written.AddRange(unique.Select(r => r.Id));
            return result;
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            result.Deferred.AddRange(unique.Select(r => r.Id));
            result.DeferredError = Describe(ex);
            return result;
        }
        catch (Exception ex) when (ex is DbException or InvalidCastException or ArgumentException or FormatException or OverflowException)
        {
            _logger.LogWarning("Target refused a batch of {Count} for {Table}; inserting row by row: {Error}", unique.Count, mapper.Mapping.Table, ex.Message);
        }

        for (var i = 0; i < unique.Count; i++)
        {
            var (id, values) = unique[i];
            try
            {
                await ExecuteAsync(mapper, [values], ct);
                result.Written.Add(id);
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                result.Deferred.AddRange(unique.Skip(i).Select(r => r.Id));
                result.DeferredError = Describe(ex);
                break;
            }
            catch (Exception ex) when (ex is DbException or InvalidCastException or ArgumentException or FormatException or OverflowException)
            {
                result.Rejected[id] = Describe(ex);
            }
        }

        return result;
    }

    /// <summary>Opens a session and runs the probe query (health checks).</summary>
    public async Task ProbeAsync(CancellationToken ct)
    {
        await using var connection = _connections.Create();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = _connections.Dialect.ProbeSql;
        await command.ExecuteScalarAsync(ct);
    }

    // All statements of a batch in one transaction: either every row is in, or none and the whole
    // batch can be retried (row by row if need be) without guessing which part landed.
    private Task ExecuteAsync(FieldMapper mapper, List<object?[]> rows, CancellationToken ct)
    {
        var statements = _connections.Dialect.BuildInserts(mapper.Mapping.Table, mapper.Columns, rows);
        return _pipeline.ExecuteAsync(async token =>
        {
            await using var connection = _connections.Create();
            await connection.OpenAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            foreach (var statement in statements)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = statement.Sql;
                command.CommandTimeout = _connections.CommandTimeoutSeconds;
                foreach (var (name, value) in statement.Parameters)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = value ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }

                await command.ExecuteNonQueryAsync(token);
            }

            await transaction.CommitAsync(token);
        }, ct).AsTask();
    }

    private static string Describe(Exception ex)
    {
        var message = ex is BrokenCircuitException ? "target unavailable (circuit open): " + ex.Message : ex.Message;
        return message.Length > 2000 ? message[..2000] : message;
    }
}
