namespace Dmh.Contracts;

/// <summary>Where a payment confirmation came from.</summary>
public static class PaymentSources
{
    /// <summary>WeChat Pay's signed notify.</summary>
    public const string Notify = "notify";
    /// <summary>The page's "I have paid" return, confirmed by querying the provider.</summary>
    public const string Callback = "callback";
    /// <summary>The reconciliation job's query.</summary>
    public const string Reconcile = "reconcile";
}

/// <summary>
/// A payment attempt was paid. Key = <see cref="OutTradeNo"/>. Amounts in integer fen.
/// </summary>
/// <param name="OutTradeNo">DMH's id of the payment attempt (payments.out_trade_no).</param>
/// <param name="TransactionId">WeChat's transaction_id; stored as orders.trade_no.</param>
/// <param name="TotalFen">amount.total: the order price.</param>
/// <param name="PayerTotalFen">amount.payer_total: what the payer paid (coupons lower it).</param>
/// <param name="SuccessTime">When WeChat says the payment succeeded.</param>
/// <param name="ReceivedAt">When DMH accepted the confirmation; settlement latency starts here.</param>
/// <param name="Source">One of <see cref="PaymentSources"/>.</param>
public sealed record PaymentSucceeded(
    string OutTradeNo,
    string TransactionId,
    long TotalFen,
    long PayerTotalFen,
    DateTimeOffset SuccessTime,
    DateTimeOffset ReceivedAt,
    string Source);

/// <summary>Kinds of rows the syncer copies.</summary>
public static class SyncEntities
{
    /// <summary>An order (orders.id).</summary>
    public const string Order = "order";
    /// <summary>A reward (rewards.id).</summary>
    public const string Reward = "reward";
    /// <summary>A reversal of a reward by a refund (reward_ledger.id of a <c>reversal</c> row; issue 17).</summary>
    public const string Reversal = "reversal";
}

/// <summary>
/// A row should be copied to the customer's database. The syncer reads the row from MySQL, so the
/// message carries only its identity. Key = <c>{Entity}:{Id}</c>.
/// </summary>
/// <param name="Entity">One of <see cref="SyncEntities"/>.</param>
/// <param name="Id">The row's id in DMH.</param>
public sealed record SyncRequested(string Entity, long Id)
{
    /// <summary>The envelope key for this request.</summary>
    public string Key => $"{Entity}:{Id}";
}

/// <summary>Kinds of events the H5 page reports (<c>POST /api/v1/track</c>).</summary>
public static class TrackEvents
{
    /// <summary>The campaign page was shown.</summary>
    public const string View = "view";
    /// <summary>The visitor first typed into the form.</summary>
    public const string FormStart = "form_start";
    /// <summary>The form was submitted.</summary>
    public const string Submit = "submit";
    /// <summary>The visitor pressed pay.</summary>
    public const string PayStart = "pay_start";

    /// <summary>Every kind, in funnel order.</summary>
    public static readonly IReadOnlyList<string> All = [View, FormStart, Submit, PayStart];
}

/// <summary>
/// One batch of page events, as one page sent it. Key = <c>{VisitorId}:{BatchId}</c>: a batch sent
/// again (a retried beacon, a redelivered entry) is counted once.
/// </summary>
/// <param name="BatchId">The page's id of the batch.</param>
/// <param name="VisitorId">The anonymous visitor id the page keeps (random, no personal data).</param>
/// <param name="CampaignId">The campaign whose page sent it.</param>
/// <param name="Channel">The <c>c_id</c> of the link ("" when none), registered as a channel or not.</param>
/// <param name="Referrer">The <c>u_id</c> referral code of the link ("" when none).</param>
/// <param name="Events">Event kinds, each one of <see cref="TrackEvents"/>.</param>
/// <param name="ReceivedAt">When Ingress accepted the batch: the rollups count it at this time.</param>
public sealed record TrackBatch(
    string BatchId,
    string VisitorId,
    long CampaignId,
    string Channel,
    string Referrer,
    IReadOnlyList<string> Events,
    DateTimeOffset ReceivedAt);

/// <summary>The kinds of <c>reward_ledger</c> rows that become a <see cref="RewardChanged"/> (issue 18).</summary>
public static class RewardChangeKinds
{
    /// <summary>A reward was credited (settlement).</summary>
    public const string Credit = "credit";
    /// <summary>A refund took (part of) a reward back.</summary>
    public const string Reversal = "reversal";
    /// <summary>A withdrawal was paid out.</summary>
    public const string Payout = "payout";

    /// <summary>Every kind that is announced.</summary>
    public static readonly IReadOnlyList<string> All = [Credit, Reversal, Payout];
}

/// <summary>
/// A committed <c>reward_ledger</c> row of one of <see cref="RewardChangeKinds"/>, to be told to its
/// participant. Key = <c>ledger:{LedgerId}</c>; the notifier sends at most one notice per ledger row.
/// </summary>
/// <param name="LedgerId">reward_ledger.id.</param>
/// <param name="UserId">The participant whose money changed (participants.id).</param>
/// <param name="Kind">One of <see cref="RewardChangeKinds"/>.</param>
/// <param name="AmountFen">How much, positive: credited, taken back or paid out.</param>
/// <param name="CampaignId">The reward's campaign; null for a payout.</param>
/// <param name="At">When the ledger row was written.</param>
public sealed record RewardChanged(long LedgerId, long UserId, string Kind, long AmountFen, long? CampaignId, DateTimeOffset At)
{
    /// <summary>The envelope key for this event.</summary>
    public string Key => $"ledger:{LedgerId}";
}
