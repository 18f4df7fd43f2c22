/// Why a rating call was refused. Each case names the offending value; `description` says
/// what was wrong and what to do. The models never return NaN or infinity: where openskill.py
/// would raise (or silently produce NaN), Cairn throws one of these.
public enum OpenSkillError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Fewer than two teams were given.
    case tooFewTeams(count: Int)
    /// A team has no players.
    case emptyTeam(team: Int)
    /// Both `ranks` and `scores` were given.
    case ranksAndScoresBothGiven
    /// An argument's length does not match the teams (`team` is set for per-team weight lists).
    case lengthMismatch(argument: String, expected: Int, actual: Int, team: Int?)
    /// An input number is NaN or infinite (`path` like "teams[1][0].mu" or "ranks[2]").
    case nonFiniteInput(path: String, value: Double)
    /// A rating has a negative σ.
    case negativeSigma(path: String, value: Double)
    /// A model parameter is outside its domain.
    case invalidParameter(name: String, value: Double, requirement: String)
    /// exp overflowed (openskill.py raises OverflowError here).
    case expOverflow(argument: Double, context: String)
    /// A denominator was zero (openskill.py raises ZeroDivisionError here).
    case divisionByZero(context: String)
    /// An intermediate or final value became NaN or infinite.
    case nonFiniteResult(path: String, value: Double)

    public var description: String {
        switch self {
        case .tooFewTeams(let count):
            return "rating needs at least 2 teams, got \(count); pass every team of the game"
        case .emptyTeam(let team):
            return "team \(team) has no players; every team needs at least one rating"
        case .ranksAndScoresBothGiven:
            return "both ranks and scores were given; pass only one of them"
        case .lengthMismatch(let argument, let expected, let actual, let team):
            let place = team.map { " for team \($0)" } ?? ""
            return "\(argument) has \(actual) entries\(place) but \(expected) were expected; "
                + "give one entry per \(team == nil ? "team" : "player")"
        case .nonFiniteInput(let path, let value):
            return "\(path) is \(value); inputs must be finite numbers"
        case .negativeSigma(let path, let value):
            return "\(path) is \(value); sigma must be zero or positive"
        case .invalidParameter(let name, let value, let requirement):
            return "model parameter \(name) is \(value); it must be \(requirement)"
        case .expOverflow(let argument, let context):
            return "exp(\(argument)) overflows in \(context); the ratings are too far apart for "
                + "this beta — use ratings on a smaller scale or a larger beta"
        case .divisionByZero(let context):
            return "division by zero in \(context); give players a positive sigma or the model a "
                + "positive tau/beta"
        case .nonFiniteResult(let path, let value):
            return "\(path) came out as \(value); the inputs are too extreme to rate — use "
                + "ratings on a smaller scale"
        }
    }
}
