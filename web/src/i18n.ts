// Vietnamese by default, English on request. `en` is typed against `vi`, so a missing translation is
// a type error. Placeholders: {name}.

const vi = {
  "nav.label": "Điều hướng chính",
  "nav.skip": "Bỏ qua, đến nội dung chính",
  "nav.list": "Các cuộc lấy ý kiến",
  "nav.verify": "Kiểm tra biên nhận",
  "nav.settings": "Cài đặt",
  "nav.switchLang": "English",
  "nav.notFound": "Không tìm thấy trang này",
  "nav.staff": "Cán bộ",
  "ro.title": "Ý kiến đã gửi về điều này",
  "ro.search": "Tìm trong ý kiến",
  "ro.search.hint": "Gõ có dấu hay không dấu đều được.",
  "ro.stance": "Lập trường",
  "ro.stance.all": "Tất cả",
  "ro.apply": "Lọc",
  "ro.more": "Xem thêm 20 ý kiến",
  "ro.none": "Chưa có ý kiến nào phù hợp.",
  "ro.keepLooking": 'Chưa thấy ý kiến nào khớp trong phần đã tìm; bấm "Xem thêm 20 ý kiến" để tìm tiếp.',
  "ro.end": "Đã hiện hết ý kiến.",
  "ro.shown": "Đang hiện {n} ý kiến.",
  "ro.withheld": "Nội dung đã bị ẩn (lý do: {reason}).",
  "ro.empty": "(không kèm nội dung)",
  "ro.offline": "Ý kiến trực tiếp hoặc trên giấy",
  "ro.campaign": "Thuộc một nhóm ý kiến giống nhau (#{id})",
  "ro.leaf": "Mục số {n} trong sổ",
  "auth.signIn": "Đăng nhập",
  "auth.signedInAs": "Đã đăng nhập: {name}",
  "auth.failed": "Không đăng nhập được: {message}",
  "staff.title": "Trang dành cho cán bộ",
  "staff.signIn": "Hãy đăng nhập bằng tài khoản cán bộ của cơ quan.",
  "staff.notStaff": "Trang này chỉ dành cho cán bộ của cơ quan. Tài khoản của bạn là tài khoản công dân.",
  "staff.agency": "{name}, cơ quan {agency}.",

  "common.loading": "Đang tải…",
  "common.retry": "Thử lại",
  "common.block": "Khối",
  "common.tx": "Giao dịch",

  "err.title": "Có lỗi:",
  "err.pageTitle": "Không hiển thị được trang",
  "err.checkSettings": "Kiểm tra cài đặt (địa chỉ dịch vụ, RPC)",
  "err.service.unreachable":
    "Không kết nối được tới dịch vụ tại {url}. Dịch vụ có thể đang tắt, hoặc địa chỉ trong Cài đặt chưa đúng.",
  "err.service.http": "Dịch vụ trả lời lỗi {status}: {message}",
  "err.service.format": "Dịch vụ trả lời không đúng định dạng ({url}).",
  "err.notFound": "Không tìm thấy (dịch vụ trả lời 404).",
  "err.auth": "Bạn cần đăng nhập (hoặc phiên đăng nhập đã hết hạn).",
  "err.rpc.unreachable":
    "Không kết nối được tới chuỗi khối qua RPC {url}. Hãy kiểm tra địa chỉ RPC trong Cài đặt.",
  "err.chain.wrong":
    "RPC {url} thuộc chuỗi {actual}, nhưng cuộc lấy ý kiến được neo trên chuỗi {expected}. Hãy chọn RPC đúng chuỗi trong Cài đặt.",
  "err.chain.noContract": "Không có hợp đồng đăng ký tại {contract} trên chuỗi của RPC {url}.",
  "err.chain.format": "Chuỗi khối trả lời không như mong đợi: {message}",
  "err.chain.disagreement": "Các RPC trả lời khác nhau về {fact}: {answers}",
  "err.chain.reverted": "Hợp đồng đăng ký tại {contract} từ chối lệnh đọc: {error}",
  "err.unknown": "Lỗi không mong đợi: {message}",
  "err.trust.none":
    "Bản này của trang được dựng mà không có gốc tin cậy, nên không kiểm tra được gì trên chuỗi khối. Hãy nhập tệp gốc tin cậy trong Cài đặt.",
  "err.trust.disagree": "Các RPC trong gốc tin cậy trả lời khác nhau về đầu nhật ký đã neo: {readings}.",
  "trust.mismatch":
    "Cảnh báo: dịch vụ chỉ tới nơi khác (hợp đồng {advertised}, chuỗi {advertisedChain}) so với gốc tin cậy của trang này (hợp đồng {registry}, chuỗi {chainId}). Đừng tin những gì dịch vụ nói về chuỗi khối; việc kiểm tra vẫn chạy trên hợp đồng đã ghim.",
  "trust.imported":
    "Gốc tin cậy đã được thay bằng một tệp bạn nhập: đang kiểm tra với hợp đồng {registry} trên chuỗi {chainId}.",
  "trust.backToBuiltIn": "Quay về gốc tin cậy có sẵn",
  "trust.none":
    "Bản này của trang không có gốc tin cậy: nó không kiểm tra được gì trên chuỗi khối cho tới khi bạn nhập một tệp gốc tin cậy trong Cài đặt.",

  "status.open": "Đang lấy ý kiến",
  "status.closed": "Đã kết thúc",
  "status.upcoming": "Sắp mở",
  "status.scheduled": "Sắp mở",
  "status.tallied": "Đã công bố kết quả",

  "list.title": "Các cuộc lấy ý kiến",
  "list.intro": "Chọn một dự thảo để đọc, góp ý và tự kiểm tra rằng nó khớp với bản đã neo trên chuỗi khối.",
  "list.empty": "Chưa có cuộc lấy ý kiến nào.",
  "list.agency": "Cơ quan",
  "list.status": "Trạng thái",
  "list.opens": "Mở từ",
  "list.deadline": "Hạn góp ý",

  "c.loadingTitle": "Cuộc lấy ý kiến",
  "c.version": "Phiên bản dự thảo",
  "c.badge.checking": "Đang so dự thảo với bản đã neo trên chuỗi khối…",
  "c.badge.ok": "Dự thảo này khớp với phiên bản đã neo trên chuỗi khối.",
  "c.badge.bad": "Dự thảo này KHÔNG khớp với phiên bản đã neo trên chuỗi khối.",
  "c.badge.badExplain":
    "Văn bản bạn đang đọc khác với văn bản cơ quan đã cam kết. Đừng dựa vào nó; hãy báo cho cơ quan hoặc báo chí.",
  "c.badge.unknown": "Chưa kiểm tra được dự thảo với chuỗi khối.",
  "c.badge.browserHash": "Mã băm tính trong trình duyệt",
  "c.badge.chainHash": "Mã băm trên chuỗi khối",
  "resp.title": "Phản hồi của cơ quan soạn thảo",
  "resp.checking": "Đang so phản hồi với bản đã công bố trên chuỗi khối…",
  "resp.badge.match": "Phản hồi (phiên bản {version}) khớp với bản đã công bố trên chuỗi khối.",
  "resp.badge.mismatch": "Phản hồi dịch vụ đưa KHÔNG khớp với bản đã công bố trên chuỗi khối.",
  "resp.badge.none": "Cơ quan chưa công bố phản hồi.",
  "resp.badge.unpublished":
    "Chuỗi khối có phản hồi (phiên bản {version}) nhưng dịch vụ không cung cấp văn bản.",
  "resp.badge.notCheckable": "Hợp đồng đăng ký này không ghi nhận phản hồi.",
  "resp.badge.badExplain":
    "Văn bản phản hồi bạn nhận được khác với văn bản cơ quan đã cam kết trên chuỗi khối. Đừng dựa vào nó.",
  "resp.badge.browserHash": "Mã băm tính trong trình duyệt",
  "resp.badge.chainHash": "Mã băm trên chuỗi khối",
  "resp.badge.error": "Chưa kiểm tra được phản hồi với chuỗi khối.",
  "resp.article.title": "Phản hồi của cơ quan",
  "resp.article.none": "Phản hồi không có nội dung cho điều này.",
  "resp.article.unverified": "Không hiển thị: phản hồi không khớp với chuỗi khối.",
  "resp.status.accepted": "Tiếp thu",
  "resp.status.partly-accepted": "Tiếp thu một phần",
  "resp.status.not-accepted": "Không tiếp thu",
  "resp.status.explained": "Giải trình",
  "att.title": "Tài liệu kèm theo",
  "att.checking": "đang kiểm tra…",
  "att.ok": "mã băm khớp với dự thảo",
  "att.bad": "mã băm KHÔNG khớp với dự thảo",
  "att.error": "chưa tải được để kiểm tra",
  "att.size": "{kb} KB",
  "c.tally.title": "Kết quả tổng hợp",
  "c.tally.ok": "Kết quả này khớp với bản đã công bố trên chuỗi khối.",
  "c.tally.bad": "Kết quả này KHÔNG khớp với bản đã công bố trên chuỗi khối.",
  "c.tally.notYet": "Kết quả chưa được công bố.",
  "c.tally.caption": "Số ý kiến theo điều (trên {n} mục nhật ký)",
  "c.tally.section": "Điều",
  "c.tally.total": "Tổng",
  "c.tally.browserHash": "Mã băm kết quả tính trong trình duyệt",
  "c.tally.chainHash": "Mã băm kết quả trên chuỗi khối",
  "c.auditLink": "Kiểm toán toàn bộ (dành cho kiểm toán viên, nhà báo)",
  "c.moderationLink": "Nhật ký kiểm duyệt: mọi ý kiến bị ẩn nội dung và lý do",
  "m.title": "Nhật ký kiểm duyệt",
  "m.intro":
    "Mỗi lần cơ quan ẩn nội dung một ý kiến là một mục trong sổ, có mã lý do và bí danh của cán bộ. Ý kiến vẫn được tính; chỉ nội dung bị ẩn.",
  "m.caption": "Các nội dung đã bị ẩn",
  "m.entry": "Mục kiểm duyệt",
  "m.target": "Ý kiến bị ẩn (mục số)",
  "m.reason": "Lý do",
  "m.by": "Cán bộ (bí danh)",
  "m.at": "Thời điểm",
  "m.none": "Chưa có nội dung nào bị ẩn.",
  "m.more": "Xem thêm",
  "m.count": "Đang hiện {n} mục.",

  "f.signin.title": "Đăng nhập để góp ý",
  "f.signin.hint":
    "Bạn đăng nhập tại nhà cung cấp định danh. Danh tính của bạn không bao giờ được ghi lên chuỗi khối hay nhật ký.",
  "f.signedInAs": "Đã đăng nhập: {sub}.",
  "f.signout": "Đăng xuất",
  "f.signinFirst": "Đăng nhập (phía trên) để góp ý cho điều này.",
  "f.title": "Góp ý cho: {section}",
  "f.stance": "Ý kiến của bạn",
  "f.stance.missing": "Hãy chọn đồng ý, không đồng ý hoặc trung lập.",
  "f.text": "Nội dung góp ý (không bắt buộc)",
  "f.text.hint": "Tối đa 10.000 ký tự. Không ghi thông tin cá nhân.",
  "f.submit": "Gửi góp ý",
  "f.submitting": "Đang gửi…",

  "stance.agree": "Đồng ý",
  "stance.disagree": "Không đồng ý",
  "stance.neutral": "Trung lập",

  "r.title": "Biên nhận góp ý",
  "r.kept":
    "Ý kiến của bạn đã được ghi nhận. Biên nhận này được lưu trong trình duyệt; bạn cũng nên tải về để giữ.",
  "r.notFound":
    "Không có biên nhận này trong trình duyệt. Nếu bạn đã tải về, hãy mở trang Kiểm tra biên nhận.",
  "r.consultation": "Cuộc lấy ý kiến",
  "r.section": "Điều",
  "r.stance": "Ý kiến",
  "r.text": "Nội dung",
  "r.textWithheld": "(đã ẩn do kiểm duyệt)",
  "r.index": "Vị trí trong nhật ký",
  "r.issuedAt": "Thời điểm ghi nhận",
  "r.deadline": "Hạn neo lên chuỗi khối",
  "r.leafHash": "Mã băm mục nhật ký",
  "r.download": "Tải biên nhận (JSON)",
  "r.verifyNow": "Kiểm tra ngay",
  "r.qr.title": "Mã QR",
  "r.qr.alt": "Mã QR chứa đường dẫn kiểm tra biên nhận",
  "r.qr.hint": "Quét mã này bằng điện thoại khác để kiểm tra biên nhận ở đó.",
  "r.qr.tooLarge": "Góp ý quá dài để đưa vào mã QR; hãy tải biên nhận về.",
  "r.status.pending": "Đang chờ neo.",
  "r.status.pendingExplain":
    "Ý kiến đã được ghi vào nhật ký nhưng chưa được neo lên chuỗi khối. Dịch vụ cam kết neo trước {deadline}.",
  "r.status.anchored": "Đã neo.",
  "r.status.anchoredExplain":
    'Nhật ký đã neo trên chuỗi khối có {treeSize} mục và bao gồm vị trí của bạn. Bấm "Kiểm tra ngay" để tự kiểm tra đầy đủ.',
  "r.status.overdue": "Quá hạn neo!",
  "r.status.overdueExplain":
    "Dịch vụ đã hứa neo trước {deadline} nhưng chưa làm. Hãy giữ biên nhận đã ký này làm bằng chứng.",
  "r.status.unknown": "Chưa biết trạng thái neo.",
  "r.status.proofFailed": "Bằng chứng không đạt!",
  "r.status.proofFailedExplain":
    'Nhật ký đã neo có {treeSize} mục, nhưng bằng chứng cho vị trí của bạn không đạt ở bước “{step}”. Bấm "Kiểm tra ngay" để xem chi tiết.',
  "r.status.replaced": "Đã neo, nhưng không còn được đếm.",
  "r.status.replacedExplain":
    "Nhật ký đã neo có {treeSize} mục và bao gồm ý kiến của bạn, nhưng một ý kiến sau (vị trí {current}) đã thay nó nên kết quả đếm ý kiến đó. {held}",
  "r.status.countedExplain":
    "Bằng chứng bao hàm và bằng chứng được đếm đều đạt với đầu nhật ký đã neo ({treeSize} mục): ý kiến của bạn nằm trong nhật ký và được đếm.",
  "r.status.uncheckedExplain":
    "Bằng chứng bao hàm đạt với đầu nhật ký đã neo ({treeSize} mục). Hợp đồng này không lưu gốc bản đồ được đếm nên chưa kiểm tra được việc đếm.",

  "v.title": "Kiểm tra biên nhận",
  "v.intro":
    "Trình duyệt của bạn tự kiểm tra biên nhận: chữ ký, nội dung, và việc ý kiến nằm trong nhật ký đã neo trên chuỗi khối. Không cần tin dịch vụ.",
  "v.choose": "Chọn biên nhận",
  "v.file": "Tệp biên nhận (.json)",
  "v.paste": "Hoặc dán biên nhận (JSON hoặc đường dẫn kiểm tra)",
  "v.pasteButton": "Kiểm tra",
  "v.scan": "Quét mã QR (chụp ảnh mã)",
  "v.scan.none": "Không đọc được mã QR trong ảnh.",
  "v.scan.unsupported": "Trình duyệt này không đọc được mã QR; hãy dùng tệp hoặc dán đường dẫn.",
  "v.mine": "Ý kiến của tôi",
  "v.mine.empty": "Chưa có biên nhận nào trong trình duyệt này.",
  "v.mine.item": "Cuộc lấy ý kiến #{consultation}, mục {index}",
  "v.mine.fromService": "Tải biên nhận của tôi từ dịch vụ",
  "v.notJson": "Không đọc được biên nhận: đây không phải JSON hợp lệ.",
  "v.badFragment": "Đường dẫn chứa biên nhận bị hỏng.",
  "v.results": "Kết quả kiểm tra",
  "v.detail": "Chi tiết kỹ thuật",
  "v.time": "Thời gian kiểm tra sau khi có bằng chứng và đầu nhật ký: {ms} ms.",
  "v.anchorTx": "(khối {block}, giao dịch {tx})",
  "v.against": "Kiểm tra với hợp đồng {registry} trên chuỗi {chainId} ({source}).",
  "v.witnesses.mirror": "điểm kiểm tra của bản sao",
  "v.witnesses.service": "điểm kiểm tra của dịch vụ",
  "v.witnesses.none": "Không nhân chứng nào đồng ký {source} (gốc tin cậy yêu cầu {quorum}).",
  "v.witnesses.some": "{source} được {n} nhân chứng đồng ký: {names} (gốc tin cậy yêu cầu {quorum}).",
  "v.source.built-in": "gốc tin cậy có sẵn của trang",
  "v.source.imported": "gốc tin cậy bạn đã nhập",

  "verdict.running": "Đang kiểm tra…",
  "verdict.valid": "HỢP LỆ: ý kiến của bạn nằm trong nhật ký đã neo trên chuỗi khối, đúng như biên nhận.",
  "verdict.invalid": "KHÔNG HỢP LỆ: bước “{step}” không đạt.",
  "verdict.pending":
    "ĐANG CHỜ: biên nhận đúng, nhưng ý kiến chưa được neo lên chuỗi khối. Dịch vụ cam kết neo trước {deadline}; hãy kiểm tra lại sau.",
  "verdict.overdue":
    "QUÁ HẠN: dịch vụ hứa neo ý kiến này trước {deadline} nhưng nhật ký trên chuỗi khối vẫn chưa có nó.",
  "verdict.overdueEvidence":
    "Biên nhận có chữ ký của dịch vụ là bằng chứng cho lời hứa này. Hãy tải về và gửi cho cơ quan hoặc báo chí.",
  "verdict.incomplete": "CHƯA KẾT LUẬN: không hoàn tất được việc kiểm tra.",
  "verdict.replaced":
    "KHÔNG ĐƯỢC ĐẾM: ý kiến này nằm trong nhật ký, nhưng bản đồ đã neo trỏ tới một ý kiến sau (vị trí {current}) thay cho nó.",

  "stepName.format": "Định dạng",
  "stepName.signature": "Chữ ký của dịch vụ",
  "stepName.contentHash": "Nội dung góp ý",
  "stepName.leafHash": "Mục nhật ký",
  "stepName.head": "Đầu nhật ký trên chuỗi khối",
  "stepName.proof": "Bằng chứng bao hàm",
  "stepName.agreement": "Các RPC thống nhất",
  "stepName.counted": "Được đếm",
  "stepName.checkpoint": "Điểm kiểm tra của nhật ký",
  "stepName.inclusion": "Bằng chứng trong biên nhận",
  "step.passed": "đạt",
  "step.failed": "không đạt",
  "step.open": "chưa xong",
  "step.skipped": "Bỏ qua vì bước trước không đạt.",
  "step.waiting": "Đang chờ…",
  "step.format.ok": "Biên nhận đúng định dạng.",
  "step.format.bad": "Biên nhận hỏng hoặc không đúng định dạng.",
  "step.signature.ok": "Dịch vụ đã ký biên nhận này.",
  "step.signature.bad": "Chữ ký không khớp: biên nhận không do dịch vụ cấp, hoặc đã bị sửa.",
  "step.contentHash.ok": "Nội dung và muối khớp với mã băm trong mục nhật ký.",
  "step.contentHash.bad": "Nội dung trong biên nhận khác với nội dung đã ghi vào nhật ký.",
  "step.contentHash.withheld":
    "Nội dung đã bị ẩn do kiểm duyệt: biên nhận không còn giữ nội dung nên không thể đối chiếu. Ý kiến vẫn được ghi và được đếm.",
  "step.leafHash.ok": "Mục nhật ký khớp với mã băm lá.",
  "step.leafHash.bad": "Mục nhật ký không khớp với mã băm lá.",
  "step.head.ok":
    "Đọc trực tiếp từ hợp đồng: nhật ký đã neo có {treeSize} mục (gốc {root}), bao gồm vị trí {index} của bạn.",
  "step.head.pending":
    "Nhật ký đã neo mới có {treeSize} mục, chưa tới vị trí {index} của bạn. Hạn neo: {deadline}.",
  "step.head.overdue":
    "Đã quá hạn neo ({deadline}) mà nhật ký đã neo mới có {treeSize} mục, chưa tới vị trí {index} của bạn.",
  "step.head.frozenMissing":
    "Cuộc lấy ý kiến đã đóng với {treeSize} mục; vị trí {index} của bạn không nằm trong đó.",
  "step.proof.ok": "Bằng chứng dẫn từ ý kiến của bạn tới đúng gốc đã neo trên chuỗi khối.",
  "step.proof.bad": "Bằng chứng không dẫn tới gốc đã neo trên chuỗi khối.",
  "step.proof.missing": "Dịch vụ (hoặc bản sao) không đưa ra được bằng chứng cho ý kiến này.",
  "step.proof.waiting": "Sẽ kiểm tra khi ý kiến đã được neo.",
  "step.proof.consistent":
    "Điểm kiểm tra trong biên nhận ({size} mục) và đầu nhật ký đã neo trên chuỗi khối ({treeSize} mục, gốc {root}) là cùng một lịch sử.",
  "step.proof.fork":
    "Điểm kiểm tra trong biên nhận và đầu nhật ký đã neo trên chuỗi khối không phải cùng một lịch sử: đây là bằng chứng nhật ký đã bị rẽ nhánh. Hãy giữ biên nhận này.",
  "step.checkpoint.ok": "Khóa của nhật ký {origin} đã ký điểm kiểm tra có {size} mục mà biên nhận dẫn tới.",
  "step.checkpoint.bad":
    "Điểm kiểm tra trong biên nhận không được khóa của nhật ký (trong gốc tin cậy) ký hợp lệ.",
  "step.checkpoint.noLogKey":
    "Gốc tin cậy không có khóa của nhật ký: không thể kiểm tra biên nhận phiên bản 2.",
  "step.inclusion.ok":
    "Bằng chứng trong biên nhận dẫn từ mục {index} tới gốc của điểm kiểm tra ({size} mục).",
  "step.inclusion.bad": "Bằng chứng trong biên nhận không dẫn tới gốc của điểm kiểm tra.",
  "step.signature.notOnChain":
    "Khóa đã ký biên nhận này ({keyId}) chưa từng được đăng ký trên hợp đồng {registry}: dịch vụ có thể liệt kê nó, nhưng chuỗi khối không biết nó.",
  "step.agreement.ok": "{n} RPC của gốc tin cậy đều trả lời cùng một đầu nhật ký.",
  "step.agreement.bad":
    "Các RPC của gốc tin cậy trả lời khác nhau về đầu nhật ký đã neo: không thể biết bên nào đúng.",
  "step.counted.ok":
    "Bản đồ các ý kiến được đếm (gốc {root}, neo cùng đầu nhật ký) trỏ tới đúng ý kiến này: kết quả đếm nó.",
  "step.counted.replaced":
    "Ý kiến này đã bị thay bằng một ý kiến sau của cùng người về cùng điều, ở vị trí {current}; kết quả đếm ý kiến đó, không phải ý kiến này. {held}",
  "step.counted.heldYes": "Trình duyệt này có biên nhận của bạn cho vị trí {current}.",
  "step.counted.heldNo":
    "Trình duyệt này không có biên nhận nào cho vị trí {current}: nếu bạn không gửi ý kiến đó, hãy báo cáo.",
  "step.counted.wrong":
    "Bản đồ đã neo không trỏ tới ý kiến này dù nhật ký có nó: bản đồ trên chuỗi khối sai.",
  "step.counted.bad": "Bằng chứng được đếm không khớp với gốc đã neo trên chuỗi khối.",
  "step.counted.missing": "Dịch vụ (hoặc bản sao) không đưa ra được bằng chứng được đếm cho ý kiến này.",
  "step.counted.unsupported": "Không kiểm tra được trên hợp đồng này: nó không lưu gốc bản đồ được đếm.",
  "step.counted.notOpinion": "Mục này không phải một ý kiến nên không nằm trong bản đồ được đếm.",

  "a.title": "Kiểm toán cuộc lấy ý kiến",
  "a.intro":
    "Tải toàn bộ dữ liệu xuất của “{title}”, tính lại từng mục, gốc cây Merkle và kết quả ngay trong trình duyệt, rồi so với chuỗi khối.",
  "a.chainHead": "Đầu nhật ký trên chuỗi khối",
  "a.headValue": "{treeSize} mục, gốc {root}",
  "a.anchors": "Số lần neo",
  "a.noTally": "Kết quả chưa được công bố trên chuỗi khối.",
  "a.start": "Bắt đầu kiểm toán",
  "a.progress": "Tiến độ",
  "a.progressValue": "{count} / {total} mục",
  "a.exportFailed": "Không tải được dữ liệu xuất: {message}",
  "a.result": "Kết quả kiểm toán",
  "a.pass": "ĐẠT: mọi thứ tính lại đều khớp với chuỗi khối.",
  "a.fail": "KHÔNG ĐẠT: có chỗ không khớp (xem bên dưới).",
  "a.leaves.ok":
    "{count} mục đều đúng mã băm; {texts} nội dung khớp, {withheld} nội dung bị ẩn do kiểm duyệt.",
  "a.anchors.ok": "Cả {n} lần neo trên chuỗi khối đều khớp với gốc tính lại.",
  "a.anchors.bad": "Gốc tính lại không khớp lần neo ở kích thước: {sizes}.",
  "a.anchors.none": "Chưa có lần neo nào trên chuỗi khối.",
  "a.tally.ok": "Kết quả tính lại khớp với mã băm kết quả trên chuỗi khối.",
  "a.tally.bad": "Kết quả tính lại KHÔNG khớp với mã băm kết quả trên chuỗi khối.",
  "a.problems": "Danh sách vấn đề",
  "a.stats": "{count} mục trong {seconds} giây; gốc {root}.",
  "a.check.format.ok": "Dữ liệu xuất đúng định dạng và đúng thứ tự.",
  "a.check.format.bad": "Dữ liệu xuất sai định dạng hoặc sai thứ tự (dòng bị bỏ, lặp hoặc đảo).",
  "a.check.entries.bad": "Có mục không giải mã được, không thuộc cuộc lấy ý kiến này hoặc sai mã băm.",
  "a.check.length.ok": "Dữ liệu xuất có {count} mục, đủ tới lần neo cuối ({anchored} mục).",
  "a.check.length.bad":
    "Dữ liệu xuất có {count} mục, không khớp với chuỗi khối (lần neo cuối: {anchored} mục).",
  "a.check.texts.ok": "Mọi nội dung công khai khớp với mã băm nội dung.",
  "a.check.texts.bad": "Có nội dung công khai KHÔNG khớp với mã băm nội dung.",
  "a.check.moderation.ok": "Mọi nội dung bị ẩn đều có mục kiểm duyệt tương ứng.",
  "a.check.moderation.bad": "Có nội dung bị ẩn không có mục kiểm duyệt, hoặc mục kiểm duyệt sai đích.",
  "a.check.window.ok": "Mọi ý kiến được gửi trong thời gian lấy ý kiến.",
  "a.check.window.bad": "Có ý kiến được gửi ngoài thời gian lấy ý kiến.",
  "a.check.replaces.ok": "Mỗi người chỉ có một ý kiến còn hiệu lực cho mỗi điều.",
  "a.check.replaces.bad": "Có người có hai ý kiến còn hiệu lực cho một điều.",
  "a.check.draft.ok": "Dự thảo khớp với mã băm dự thảo trên chuỗi khối.",
  "a.check.draft.bad": "Dự thảo KHÔNG khớp với mã băm dự thảo trên chuỗi khối.",
  "a.check.response.ok":
    "Phản hồi (phiên bản {version}) khớp với chuỗi khối và trả lời mọi điều của dự thảo cuối.",
  "a.check.response.bad": "Phản hồi KHÔNG khớp với chuỗi khối, hoặc bỏ sót điều của dự thảo cuối.",
  "a.response.none": "Chưa có phản hồi để kiểm tra.",
  "a.counted.ok": "Bảng ý kiến được tính khớp ở cả {n} lần neo.",
  "a.counted.bad": "Bảng ý kiến được tính tính lại KHÔNG khớp với chuỗi khối.",
  "a.counted.notCheckable": "Bảng ý kiến được tính: không kiểm tra được trên sổ đăng ký này.",

  "s.title": "Cài đặt",
  "s.intro":
    "Bạn có thể dùng trang này với bất kỳ dịch vụ, bản sao hay nút RPC nào. Các cài đặt lưu trong trình duyệt.",
  "s.api": "Địa chỉ dịch vụ (API)",
  "s.api.hint": "Để trống để dùng nơi cung cấp trang này. Hiện dùng: {current}",
  "s.rpc": "Địa chỉ RPC của chuỗi khối",
  "s.rpc.hint":
    "Để trống để dùng các RPC của gốc tin cậy ({fallback}). Đặt một địa chỉ (ví dụ nút của riêng bạn) để dùng nó thay cho chúng; chuỗi và hợp đồng vẫn theo gốc tin cậy.",
  "s.proof": "Bản sao cung cấp bằng chứng (không bắt buộc)",
  "s.proof.placeholder": "giống địa chỉ dịch vụ",
  "s.proof.hint": "Một bản sao độc lập của nhật ký; để trống để lấy bằng chứng từ dịch vụ.",
  "s.tiles": "Bản sao tĩnh của nhật ký (C2SP tiles, không bắt buộc)",
  "s.tiles.placeholder": "ví dụ https://bansao.example.vn/logs",
  "s.tiles.hint":
    "Thư mục chứa nhật ký của mỗi cuộc lấy ý kiến (tạo bằng npm run tiles). Khi có, trình duyệt tự tính bằng chứng từ các tile, không cần dịch vụ.",
  "s.save": "Lưu",
  "s.saved": "Đã lưu.",
  "s.reset": "Khôi phục mặc định",
  "s.resetDone": "Đã khôi phục mặc định.",
  "s.invalid": "Địa chỉ phải bắt đầu bằng http:// hoặc https://.",
  "s.trust": "Gốc tin cậy",
  "s.trust.builtIn": "Có sẵn trong bản này (công bố tại trust-root.json)",
  "s.trust.imported": "Đã nhập (khác với bản có sẵn)",
  "s.trust.none": "Bản này không có gốc tin cậy: không kiểm tra được gì trên chuỗi khối.",
  "s.trust.source": "Nguồn",
  "s.trust.chainId": "Mã chuỗi",
  "s.trust.registry": "Hợp đồng đăng ký",
  "s.trust.rpcUrls": "Các RPC",
  "s.trust.file": "Nhập tệp gốc tin cậy (.json)",
  "s.trust.importDone": "Đã nhập gốc tin cậy mới. Mọi trang sẽ kiểm tra với nó và ghi rõ đây là thay đổi.",
  "s.trust.bad": "Tệp gốc tin cậy không hợp lệ: {reason}",
  "s.trust.reset": "Quay về gốc tin cậy có sẵn",
  "s.trust.resetDone": "Đã quay về gốc tin cậy có sẵn.",
} as const;

export type MessageKey = keyof typeof vi;

const en: Record<MessageKey, string> = {
  "nav.label": "Main navigation",
  "nav.skip": "Skip to main content",
  "nav.list": "Consultations",
  "nav.verify": "Verify a receipt",
  "nav.settings": "Settings",
  "nav.switchLang": "Tiếng Việt",
  "nav.notFound": "Page not found",
  "nav.staff": "Staff",
  "ro.title": "Opinions given on this article",
  "ro.search": "Search the opinions",
  "ro.search.hint": "With or without Vietnamese diacritics.",
  "ro.stance": "Stance",
  "ro.stance.all": "All",
  "ro.apply": "Filter",
  "ro.more": "Show 20 more opinions",
  "ro.none": "No opinion matches.",
  "ro.keepLooking": 'No match in the part searched so far; press "Show 20 more opinions" to search on.',
  "ro.end": "All opinions are shown.",
  "ro.shown": "Showing {n} opinions.",
  "ro.withheld": "The text is withheld (reason: {reason}).",
  "ro.empty": "(no text)",
  "ro.offline": "Given at a meeting or on paper",
  "ro.campaign": "Part of a group of near-identical opinions (#{id})",
  "ro.leaf": "Entry {n} of the log",
  "auth.signIn": "Sign in",
  "auth.signedInAs": "Signed in as {name}",
  "auth.failed": "Sign-in failed: {message}",
  "staff.title": "Agency staff",
  "staff.signIn": "Sign in with your agency staff account.",
  "staff.notStaff": "This page is for agency staff only. Yours is a citizen account.",
  "staff.agency": "{name}, agency {agency}.",

  "common.loading": "Loading…",
  "common.retry": "Try again",
  "common.block": "Block",
  "common.tx": "Transaction",

  "err.title": "Error:",
  "err.pageTitle": "This page could not be shown",
  "err.checkSettings": "Check the settings (service address, RPC)",
  "err.service.unreachable":
    "Cannot reach the service at {url}. It may be down, or the address in Settings may be wrong.",
  "err.service.http": "The service answered with error {status}: {message}",
  "err.service.format": "The service's answer has an unexpected format ({url}).",
  "err.notFound": "Not found (the service answered 404).",
  "err.auth": "You need to sign in (or your session has expired).",
  "err.rpc.unreachable":
    "Cannot reach the blockchain through the RPC {url}. Check the RPC address in Settings.",
  "err.chain.wrong":
    "The RPC {url} is chain {actual}, but this consultation is anchored on chain {expected}. Choose an RPC of the right chain in Settings.",
  "err.chain.noContract": "There is no registry contract at {contract} on the chain of the RPC {url}.",
  "err.chain.format": "The blockchain answered unexpectedly: {message}",
  "err.chain.disagreement": "The RPCs disagree on the {fact}: {answers}",
  "err.chain.reverted": "The registry at {contract} refused the read: {error}",
  "err.unknown": "Unexpected error: {message}",
  "err.trust.none":
    "This copy of the page was built without a trust root, so it can check nothing on chain. Import a trust root file in Settings.",
  "err.trust.disagree": "The trust root's RPC URLs disagree on the anchored head: {readings}.",
  "trust.mismatch":
    "Warning: the service points elsewhere (registry {advertised}, chain {advertisedChain}) than this page's trust root (registry {registry}, chain {chainId}). Do not believe what the service says about the chain; verification still runs against the pinned registry.",
  "trust.imported":
    "The trust root was replaced by a file you imported: checking against registry {registry} on chain {chainId}.",
  "trust.backToBuiltIn": "Back to the built-in trust root",
  "trust.none":
    "This copy of the page has no trust root: it checks nothing on chain until you import a trust root file in Settings.",

  "status.open": "Open for opinions",
  "status.closed": "Closed",
  "status.upcoming": "Opening soon",
  "status.scheduled": "Opening soon",
  "status.tallied": "Results published",

  "list.title": "Consultations",
  "list.intro":
    "Pick a draft to read it, give your opinion, and check for yourself that it matches the version anchored on chain.",
  "list.empty": "There are no consultations yet.",
  "list.agency": "Agency",
  "list.status": "Status",
  "list.opens": "Opens",
  "list.deadline": "Closes",

  "c.loadingTitle": "Consultation",
  "c.version": "Draft version",
  "c.badge.checking": "Comparing this draft with the version anchored on chain…",
  "c.badge.ok": "This draft matches the version anchored on chain.",
  "c.badge.bad": "This draft does NOT match the version anchored on chain.",
  "c.badge.badExplain":
    "The text you are reading differs from the one the agency committed to. Do not rely on it; tell the agency or the press.",
  "c.badge.unknown": "The draft could not be checked against the chain yet.",
  "c.badge.browserHash": "Hash computed in your browser",
  "c.badge.chainHash": "Hash on chain",
  "resp.title": "The drafting agency's response",
  "resp.checking": "Comparing the response with the one published on chain…",
  "resp.badge.match": "This response (version {version}) matches the one published on chain.",
  "resp.badge.mismatch": "The response the service gives does NOT match the one published on chain.",
  "resp.badge.none": "The agency has not published its response yet.",
  "resp.badge.unpublished":
    "The chain holds a response (version {version}) but the service does not serve it.",
  "resp.badge.notCheckable": "This registry records no responses.",
  "resp.badge.badExplain":
    "The response you received differs from the one the agency committed to on chain. Do not rely on it.",
  "resp.badge.browserHash": "Hash computed in your browser",
  "resp.badge.chainHash": "Hash on chain",
  "resp.badge.error": "The response could not be checked against the chain yet.",
  "resp.article.title": "The agency's response",
  "resp.article.none": "The response says nothing on this article.",
  "resp.article.unverified": "Not shown: the response does not match the chain.",
  "resp.status.accepted": "Accepted",
  "resp.status.partly-accepted": "Partly accepted",
  "resp.status.not-accepted": "Not accepted",
  "resp.status.explained": "Explained",
  "att.title": "Attachments",
  "att.checking": "checking…",
  "att.ok": "hash matches the draft",
  "att.bad": "hash does NOT match the draft",
  "att.error": "could not be fetched to check",
  "att.size": "{kb} KB",
  "c.tally.title": "Results",
  "c.tally.ok": "These results match the ones published on chain.",
  "c.tally.bad": "These results do NOT match the ones published on chain.",
  "c.tally.notYet": "The results are not published yet.",
  "c.tally.caption": "Opinions per article (over {n} log entries)",
  "c.tally.section": "Article",
  "c.tally.total": "Total",
  "c.tally.browserHash": "Results hash computed in your browser",
  "c.tally.chainHash": "Results hash on chain",
  "c.auditLink": "Full audit (for auditors and journalists)",
  "c.moderationLink": "Moderation log: every opinion whose text was withheld, and why",
  "m.title": "Moderation log",
  "m.intro":
    "Each time the agency withholds an opinion's text, the log gets an entry with a reason code and the officer's pseudonym. The opinion still counts; only its text is hidden.",
  "m.caption": "Withheld texts",
  "m.entry": "Moderation entry",
  "m.target": "Withheld opinion (entry number)",
  "m.reason": "Reason",
  "m.by": "Officer (pseudonym)",
  "m.at": "When",
  "m.none": "No text has been withheld.",
  "m.more": "Load more",
  "m.count": "Showing {n} entries.",

  "f.signin.title": "Sign in to give your opinion",
  "f.signin.hint": "You sign in at the identity provider. Who you are never goes on chain or into the log.",
  "f.signedInAs": "Signed in as {sub}.",
  "f.signout": "Sign out",
  "f.signinFirst": "Sign in (above) to give your opinion on this article.",
  "f.title": "Your opinion on: {section}",
  "f.stance": "Your position",
  "f.stance.missing": "Please choose agree, disagree or neutral.",
  "f.text": "Your comment (optional)",
  "f.text.hint": "Up to 10,000 characters. Do not include personal data.",
  "f.submit": "Send my opinion",
  "f.submitting": "Sending…",

  "stance.agree": "Agree",
  "stance.disagree": "Disagree",
  "stance.neutral": "Neutral",

  "r.title": "Your receipt",
  "r.kept": "Your opinion is recorded. This receipt is kept in this browser; download it too, to be safe.",
  "r.notFound": "This receipt is not in this browser. If you downloaded it, open the Verify page.",
  "r.consultation": "Consultation",
  "r.section": "Article",
  "r.stance": "Position",
  "r.text": "Comment",
  "r.textWithheld": "(withheld by moderation)",
  "r.index": "Position in the log",
  "r.issuedAt": "Recorded at",
  "r.deadline": "To be anchored on chain by",
  "r.leafHash": "Log entry hash",
  "r.download": "Download receipt (JSON)",
  "r.verifyNow": "Verify now",
  "r.qr.title": "QR code",
  "r.qr.alt": "QR code holding the link that verifies this receipt",
  "r.qr.hint": "Scan it with another phone to verify the receipt there.",
  "r.qr.tooLarge": "Your comment is too long for a QR code; download the receipt instead.",
  "r.status.pending": "Waiting to be anchored.",
  "r.status.pendingExplain":
    "Your opinion is in the log but not anchored on chain yet. The service promised to anchor it by {deadline}.",
  "r.status.anchored": "Anchored.",
  "r.status.anchoredExplain":
    'The log anchored on chain has {treeSize} entries and includes yours. Press "Verify now" to check everything yourself.',
  "r.status.overdue": "Anchoring overdue!",
  "r.status.overdueExplain":
    "The service promised to anchor it by {deadline} and has not. Keep this signed receipt as evidence.",
  "r.status.unknown": "Anchoring status unknown.",
  "r.status.proofFailed": "The proof failed!",
  "r.status.proofFailedExplain":
    'The anchored log has {treeSize} entries, but the proof for your entry failed at the step "{step}". Press "Verify now" for the details.',
  "r.status.replaced": "Anchored, but no longer counted.",
  "r.status.replacedExplain":
    "The anchored log has {treeSize} entries and includes your opinion, but a later one (entry {current}) replaced it, so the tally counts that one. {held}",
  "r.status.countedExplain":
    "The inclusion proof and the counted proof both verify against the anchored head ({treeSize} entries): your opinion is in the log and counted.",
  "r.status.uncheckedExplain":
    "The inclusion proof verifies against the anchored head ({treeSize} entries). This registry keeps no counted-map root, so being counted cannot be checked.",

  "v.title": "Verify a receipt",
  "v.intro":
    "Your browser checks the receipt itself: the signature, the text, and that your opinion is in the log anchored on chain. No need to trust the service.",
  "v.choose": "Choose a receipt",
  "v.file": "Receipt file (.json)",
  "v.paste": "Or paste a receipt (JSON or a verify link)",
  "v.pasteButton": "Verify",
  "v.scan": "Scan a QR code (take a photo of it)",
  "v.scan.none": "No QR code could be read in that picture.",
  "v.scan.unsupported": "This browser cannot read QR codes; use a file or paste the link.",
  "v.mine": "My opinions",
  "v.mine.empty": "No receipts in this browser yet.",
  "v.mine.item": "Consultation #{consultation}, entry {index}",
  "v.mine.fromService": "Load my receipts from the service",
  "v.notJson": "Cannot read the receipt: this is not valid JSON.",
  "v.badFragment": "The link carrying the receipt is damaged.",
  "v.results": "Result",
  "v.detail": "Technical detail",
  "v.time": "Checked in {ms} ms once the proof and the head had arrived.",
  "v.anchorTx": "(block {block}, transaction {tx})",
  "v.against": "Checked against registry {registry} on chain {chainId} ({source}).",
  "v.witnesses.mirror": "the mirror's checkpoint",
  "v.witnesses.service": "the service's checkpoint",
  "v.witnesses.none": "No witness cosigned {source} (the trust root requires {quorum}).",
  "v.witnesses.some": "{source} is cosigned by {n} witnesses: {names} (the trust root requires {quorum}).",
  "v.source.built-in": "this page's built-in trust root",
  "v.source.imported": "a trust root you imported",

  "verdict.running": "Checking…",
  "verdict.valid": "VALID: your opinion is in the log anchored on chain, exactly as the receipt says.",
  "verdict.invalid": "INVALID: the step “{step}” failed.",
  "verdict.pending":
    "PENDING: the receipt is genuine, but your opinion is not anchored on chain yet. The service promised to anchor it by {deadline}; check again later.",
  "verdict.overdue":
    "OVERDUE: the service promised to anchor this opinion by {deadline}, and the log on chain still does not include it.",
  "verdict.overdueEvidence":
    "The receipt signed by the service is evidence of that promise. Download it and send it to the agency or the press.",
  "verdict.incomplete": "NO CONCLUSION: the check could not be completed.",
  "verdict.replaced":
    "NOT COUNTED: this opinion is in the log, but the anchored map points to a later one (entry {current}) instead.",

  "stepName.format": "Format",
  "stepName.signature": "Service signature",
  "stepName.contentHash": "Comment text",
  "stepName.leafHash": "Log entry",
  "stepName.head": "Log head on chain",
  "stepName.proof": "Inclusion proof",
  "stepName.agreement": "RPC agreement",
  "stepName.counted": "Counted",
  "stepName.checkpoint": "Log checkpoint",
  "stepName.inclusion": "Receipt's inclusion proof",
  "step.passed": "passed",
  "step.failed": "failed",
  "step.open": "not done",
  "step.skipped": "Skipped because an earlier step failed.",
  "step.waiting": "Waiting…",
  "step.format.ok": "The receipt is well formed.",
  "step.format.bad": "The receipt is damaged or not in the right format.",
  "step.signature.ok": "The service signed this receipt.",
  "step.signature.bad":
    "The signature does not match: the service did not issue this receipt, or it was altered.",
  "step.contentHash.ok": "The text and salt match the hash in the log entry.",
  "step.contentHash.bad": "The text in this receipt is not the text recorded in the log.",
  "step.contentHash.withheld":
    "The text was withheld by moderation: the receipt no longer carries it, so it cannot be compared. The opinion is still recorded and counted.",
  "step.leafHash.ok": "The log entry matches the leaf hash.",
  "step.leafHash.bad": "The log entry does not match the leaf hash.",
  "step.head.ok":
    "Read from the contract: the anchored log has {treeSize} entries (root {root}) and includes your position {index}.",
  "step.head.pending":
    "The anchored log has {treeSize} entries and does not reach your position {index} yet. Anchoring deadline: {deadline}.",
  "step.head.overdue":
    "The anchoring deadline ({deadline}) has passed and the anchored log has only {treeSize} entries, not reaching your position {index}.",
  "step.head.frozenMissing":
    "The consultation closed with {treeSize} entries; your position {index} is not among them.",
  "step.proof.ok": "The proof leads from your opinion to the exact root anchored on chain.",
  "step.proof.bad": "The proof does not lead to the root anchored on chain.",
  "step.proof.missing": "The service (or mirror) could not produce a proof for this opinion.",
  "step.proof.waiting": "Checked once your opinion is anchored.",
  "step.proof.consistent":
    "The receipt's checkpoint ({size} entries) and the log head anchored on chain ({treeSize} entries, root {root}) are one history.",
  "step.proof.fork":
    "The receipt's checkpoint and the log head anchored on chain are not one history: this is evidence that the log forked. Keep this receipt.",
  "step.checkpoint.ok":
    "The key of log {origin} signed the checkpoint of {size} entries the receipt leads to.",
  "step.checkpoint.bad":
    "The receipt's checkpoint is not validly signed by the log key the trust root names.",
  "step.checkpoint.noLogKey": "The trust root names no log key: a version 2 receipt cannot be checked.",
  "step.inclusion.ok":
    "The receipt's proof leads from entry {index} to the checkpoint's root ({size} entries).",
  "step.inclusion.bad": "The receipt's proof does not lead to the checkpoint's root.",
  "step.signature.notOnChain":
    "The key that signed this receipt ({keyId}) was never registered on registry {registry}: the service may list it, the chain does not know it.",
  "step.agreement.ok": "All {n} RPC URLs of the trust root return the same head.",
  "step.agreement.bad":
    "The trust root's RPC URLs disagree on the anchored head: there is no telling which is right.",
  "step.counted.ok":
    "The map of counted opinions (root {root}, anchored with the head) points to this very opinion: the tally counts it.",
  "step.counted.replaced":
    "This opinion was replaced by a later one of the same author on the same article, entry {current}; the tally counts that one, not this one. {held}",
  "step.counted.heldYes": "This browser holds your receipt for entry {current}.",
  "step.counted.heldNo":
    "This browser holds no receipt for entry {current}: if you did not send it, report it.",
  "step.counted.wrong":
    "The anchored map does not point to this opinion although the log holds it: the map on chain is wrong.",
  "step.counted.bad": "The counted proof does not lead to the root anchored on chain.",
  "step.counted.missing": "The service (or mirror) gave no counted proof for this opinion.",
  "step.counted.unsupported": "Not checkable on this registry: it keeps no counted-map root.",
  "step.counted.notOpinion": "This entry is not an opinion, so it is not in the counted map.",

  "a.title": "Audit a consultation",
  "a.intro":
    "Download the whole export of “{title}”, recompute every entry, the Merkle root and the results in your browser, and compare them with the chain.",
  "a.chainHead": "Log head on chain",
  "a.headValue": "{treeSize} entries, root {root}",
  "a.anchors": "Anchorings",
  "a.noTally": "Results not published on chain yet.",
  "a.start": "Start the audit",
  "a.progress": "Progress",
  "a.progressValue": "{count} / {total} entries",
  "a.exportFailed": "Could not download the export: {message}",
  "a.result": "Audit result",
  "a.pass": "PASS: everything recomputed matches the chain.",
  "a.fail": "FAIL: something does not match (see below).",
  "a.leaves.ok":
    "All {count} entries hash correctly; {texts} texts match, {withheld} withheld by moderation.",
  "a.anchors.ok": "All {n} anchorings on chain match the recomputed roots.",
  "a.anchors.bad": "The recomputed root does not match the anchoring at sizes: {sizes}.",
  "a.anchors.none": "Nothing anchored on chain yet.",
  "a.tally.ok": "The recomputed results match the results hash on chain.",
  "a.tally.bad": "The recomputed results do NOT match the results hash on chain.",
  "a.problems": "Problems found",
  "a.stats": "{count} entries in {seconds} s; root {root}.",
  "a.check.format.ok": "The export is well formed and in order.",
  "a.check.format.bad": "The export is malformed or out of order (lines dropped, duplicated or swapped).",
  "a.check.entries.bad":
    "Some entries do not decode, belong to another consultation or do not match their hash.",
  "a.check.length.ok": "The export has {count} entries, up to the last anchoring ({anchored} entries).",
  "a.check.length.bad":
    "The export has {count} entries, which does not match the chain (last anchoring: {anchored}).",
  "a.check.texts.ok": "Every public text matches its content hash.",
  "a.check.texts.bad": "Some public texts do NOT match their content hash.",
  "a.check.moderation.ok": "Every withheld text has its moderation entry.",
  "a.check.moderation.bad":
    "A withheld text has no moderation entry, or a moderation entry has a wrong target.",
  "a.check.window.ok": "Every opinion was submitted while the consultation was open.",
  "a.check.window.bad": "Some opinions were submitted outside the consultation's window.",
  "a.check.replaces.ok": "Each author has one live opinion per section.",
  "a.check.replaces.bad": "An author has two live opinions on one section.",
  "a.check.draft.ok": "The draft matches the draft hash on chain.",
  "a.check.draft.bad": "The draft does NOT match the draft hash on chain.",
  "a.check.response.ok":
    "The response (version {version}) matches the chain and answers every article of the final draft.",
  "a.check.response.bad":
    "The response does NOT match the chain, or leaves an article of the final draft unanswered.",
  "a.response.none": "No response to check yet.",
  "a.counted.ok": "The map of counted opinions matches the chain at all {n} anchorings.",
  "a.counted.bad": "The recomputed map of counted opinions does NOT match the chain.",
  "a.counted.notCheckable": "Counted opinions: not checkable on this registry.",

  "s.title": "Settings",
  "s.intro": "You can use this page with any service, mirror or RPC node. Settings are kept in this browser.",
  "s.api": "Service (API) address",
  "s.api.hint": "Leave empty to use the site that served this page. Now using: {current}",
  "s.rpc": "Blockchain RPC address",
  "s.rpc.hint":
    "Leave empty to use the trust root's RPC URLs ({fallback}). Set one (a node of your own, say) to use it instead; the chain and the registry still come from the trust root.",
  "s.proof": "Proof mirror (optional)",
  "s.proof.placeholder": "same as the service",
  "s.proof.hint": "An independent copy of the log; leave empty to get proofs from the service.",
  "s.tiles": "Static log mirror (C2SP tiles, optional)",
  "s.tiles.placeholder": "e.g. https://mirror.example.vn/logs",
  "s.tiles.hint":
    "A folder holding each consultation's log (made by npm run tiles). When set, this browser computes the inclusion proof from its tiles itself, without the service.",
  "s.save": "Save",
  "s.saved": "Saved.",
  "s.reset": "Back to defaults",
  "s.resetDone": "Defaults restored.",
  "s.invalid": "Addresses must start with http:// or https://.",
  "s.trust": "Trust root",
  "s.trust.builtIn": "Built into this copy (published at trust-root.json)",
  "s.trust.imported": "Imported (differs from the built-in one)",
  "s.trust.none": "This copy has no trust root: it can check nothing on chain.",
  "s.trust.source": "Source",
  "s.trust.chainId": "Chain id",
  "s.trust.registry": "Registry",
  "s.trust.rpcUrls": "RPC URLs",
  "s.trust.file": "Import a trust root file (.json)",
  "s.trust.importDone": "New trust root imported. Every page checks against it and says it is a change.",
  "s.trust.bad": "That trust root file is not valid: {reason}",
  "s.trust.reset": "Back to the built-in trust root",
  "s.trust.resetDone": "Back on the built-in trust root.",
};

export type Lang = "vi" | "en";
const dicts: Record<Lang, Record<MessageKey, string>> = { vi, en };
const LANG_KEY = "gopy.lang";

let current: Lang = (() => {
  try {
    return window.localStorage.getItem(LANG_KEY) === "en" ? "en" : "vi";
  } catch {
    return "vi";
  }
})();

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  try {
    window.localStorage.setItem(LANG_KEY, lang);
  } catch {
    // ignore
  }
  document.documentElement.lang = lang;
}

/** `msg` with its {name} placeholders filled from `params` (unknown ones left as they are). */
export function interpolate(msg: string, params: Record<string, string | number> = {}): string {
  return msg.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** The message for `key` in the current language; unknown keys come back as themselves. */
export function t(key: MessageKey | (string & {}), params: Record<string, string | number> = {}): string {
  const msg = (dicts[current] as Record<string, string>)[key] ?? (vi as Record<string, string>)[key] ?? key;
  return interpolate(msg, params);
}
