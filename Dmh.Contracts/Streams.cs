namespace Dmh.Contracts;

/// <summary>Redis stream keys and consumer-group names shared by every deployable.</summary>
/// <remarks>
/// Keys are prefixed at run time with <c>Redis:KeyPrefix</c> (empty in production) so tests and
/// several environments can share one Redis server.
/// </remarks>
public static class StreamNames
{
    /// <summary>Verified payments, published by Ingress, consumed by Settlement.</summary>
    public const string Payments = "dmh:payments";

    /// <summary>Rows to copy into the customer's database, published by Settlement, consumed by Syncer.</summary>
    public const string Sync = "dmh:sync";

    /// <summary>Entries that failed too often, with their last error; shown to operators.</summary>
    public const string DeadLetters = "dmh:dead-letters";

    /// <summary>Visit-tracking batches from the H5 page, published by Ingress, rolled up by Settlement.</summary>
    public const string Track = "dmh:track";

    /// <summary>Changes of a participant's rewards worth a notice (issue 18), published by Settlement's sweeper, consumed by the notifier.</summary>
    public const string RewardChanged = "dmh:reward-changed";
}

/// <summary>Consumer-group names.</summary>
public static class GroupNames
{
    /// <summary>The settlement workers' group on <see cref="StreamNames.Payments"/>.</summary>
    public const string Settlement = "settlement";

    /// <summary>The syncer workers' group on <see cref="StreamNames.Sync"/>.</summary>
    public const string Syncer = "syncer";

    /// <summary>The settlement workers' tracking rollup group on <see cref="StreamNames.Track"/>.</summary>
    public const string Tracking = "tracking";

    /// <summary>The reward notifier's group on <see cref="StreamNames.RewardChanged"/>.</summary>
    public const string Notifier = "notifier";
}

/// <summary>Message type names carried in an envelope's <c>type</c> field.</summary>
public static class MessageTypes
{
    /// <summary><see cref="Dmh.Contracts.PaymentSucceeded"/>.</summary>
    public const string PaymentSucceeded = "PaymentSucceeded";

    /// <summary><see cref="Dmh.Contracts.SyncRequested"/>.</summary>
    public const string SyncRequested = "SyncRequested";

    /// <summary><see cref="Dmh.Contracts.TrackBatch"/>.</summary>
    public const string TrackBatch = "TrackBatch";

    /// <summary><see cref="Dmh.Contracts.RewardChanged"/>.</summary>
    public const string RewardChanged = "RewardChanged";
}
