"""Model files written by fastmlp 0.1.0 before the package moved into subpackages
(commit fa5bdf8), zlib-compressed and base64-encoded, with what they predicted then.

Written with that version by::

    import numpy as np, fastmlp
    rng = np.random.default_rng(0)
    X = rng.random((40, 4)); y = np.arange(40) % 3
    fastmlp.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, batch_size=10,
                          dtype="float64", random_state=0).fit(X, y).save(
        "classifier.npz", metadata={"written_by": "fastmlp 0.1.0"})
    fastmlp.MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, batch_size=10,
                         dtype="float64", random_state=0).fit(
        X, X[:, :2] @ [1.0, -2.0]).save("regressor.npz")

and the classifier's ``predict_proba(X)`` and the regressor's ``predict(X)``.
"""

import base64
import io
import zlib

import numpy as np


def decode(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


def array(text: str) -> np.ndarray:
    return np.load(io.BytesIO(decode(text)), allow_pickle=False)


CLASSIFIER = (
    "eNrNWg9QFNcZX+SfYKwXkpiYop6MGdQA5TjxQAnPguN0akBKxEYTZ3Pc7XEXj7tzdwEBmWqGqhOD1QEqtE6p0Sgy"
    "WGJFoUmT9W8HxrHRqjWiTgqo2EISJxljG610V793vn3sXSEY5Ga+efvnfd9735/3+75977IWBQbFMg9+05gtP/3o"
    "Tj/8wpmnGZubzzeLcS5PcQCjY5qhH24rM3MyspYFMIVMabSVEyx89Fx9dEqOwRgdo4+WWUXe7GLdvJVTXiw0OwVO"
    "fi7YzR5Ovp8xM0Zfph/OL9wmz8EskyCTKFO+TE6ZPDLFwr1bJqtMHLzLUul78dAHN7C+EV592UKOFxxuF9Z7I/Tf"
    "6FdvR9LIqK0PD4R5qHVJPTPnY6zLeFkXThAdsjJufrS6L0Oew8uKGjKlg3uwOxVyyGSDVnEfP0DlltCzHBmuHjNv"
    "zhewvq8GPOiHW219bYNzW4IpZpgah/dl/qUnauZpVLmH7Um70CGl/+KV5NP5vdL66bHbx7b0Sd3Lzy1+rq0LvdGW"
    "tyVt7g2UfrbryNL+NtRxIuzb21WX0Km9W8P2NR1An9cUTXnvw3+id9KkuKufdCFmVV3fov2fS9907+Zj665KyzbF"
    "VF9d0oNO/6Yn9OCCAygyzvLjX1dclBanZ56puH1MOlvNNhxO/0La/e/gz8Z/1SOdPb41u/DoeRQ2bcrxiLq/oRmh"
    "8zszn7+G/l769mS9s1eqF34e98XRDtRVWFFwaNpfEVfZaQlxnZL28SGMu/JLpPZJzp0pbdgnE2SfOM3FHM8KjhLO"
    "65ga6FzzKNaTcbh+0YcHwTwCqVatWGv561asmE5WzMxb7A6Rs4gFPIc1q4dQq/cbcjmm2SO0xErlOUTBsrIASirL"
    "qRCe4XsFJV3Qd65MerjmCeQsgGcxxHs3PBcBdfE1O4wxBXhnI1Bd4VutMb4T+mLIoGXh93kwJ63+ZQM8/WmjbjUZ"
    "wvZiD8erscUe9qAzbn04OtEUPyKe/t4dbSZSqx3uSRnxMsVBi8lAycgl5mIBOSyB9SUwB1KuAWTRcjiQYwYZBh/z"
    "SR4Eb4If3mQNGVbgLwZ7cBr2tBHBhnWeI9NsDdty0IcHnmLCLiLI8AA5wH951Jg2wkcCyKTH8BC2dvqIBQP0jQU7"
    "JFFy7MBvJcoqF7G4zDB/nK+1/Esv1NdkMsq0ghoL6+ogQEWA2MG6cn7i0KABFqStXZQ9WXiO/aXlVwthN4GIIxdc"
    "Rz2CMVkN3f2tNcP3AIqkPBKAWWJO2Mek/AQNXje0HGGnAng2mDXr8jEuC+/ccG0hsAnbdzB44iLikpTvBvwUQP5Q"
    "dBFBRoHGWnzcSdMDfYsoW/qKs0SKnydsbCVswlJrQvSxPmOoedvBBjYCN7kh2BPr7gR7acUlzmFWaPM17CIScoaa"
    "2woJTHIQ49B+Y0FHXsPXWr7FY2uNh/XMJdYvN8S8UERgk5YPeY24GIxMDnTKA/+Kg8C1KOiP8QivQdFnobal5kI1"
    "LtTC5EJNEM2itxZvg7Ietz5KtIQRKsa9JRoZBhwRJgVEGSZQ5mIpU80eAkT6g2dRo0+SxjKlUwSGWzznQiJ10and"
    "ACGcANBuBEgxgh6J0GcOUSLh63hKV1KWMk8TyEwi+LB8zG+E/vhZokapkUulANaHznQqeRRz+a4wIhDlCB035Dxd"
    "4Ccn0P/Te7hzGMr4dAp3AAx5qBTMaaRdlhi7gCrBfKWbx+FTB5GO8wgbCUS54hmk7QZC4PRvxVoMgU/IEJjPiWar"
    "WTRjFLwLPe/63/QzGkZ4R6IIPIwRS6Q+JnLhQ0Lrw8rXni+dMHHS1k4et+dH/AtbbpxsOYvTLAijd5MKpsHAzhIz"
    "RnOT6unJ/bvIDW1QinXnvslZvBv566D/On+6rck1jNSGNqXEtb57HViJp2Ql3B7Rke8oUbYRyQSfAvt0uPW1n21K"
    "HNkEv5JI3NbvUIc+rm/G4XwbD0Y+TyUNO8ixEiD3KL65OeIbB48j+KltOQ0/aRVKdJE0mvakhrO/MxAam4KddnKr"
    "++ECHL2nK5cqTI1rbdvR5ctGXev+rdJPLpsaQ5la9K7BGreeb0CnXt3Orgj8rdSUVvUzpq0JzbKHhN670ojOpUdf"
    "W5exTdpm+0pXFrAXtUpR2ZuW70IR+vjuhbpK6XpQS+SYd+rQ9D0/zHLWtErt2U9a1rC/lG6tin5h5YIP0aSbGfvm"
    "C+VS5Nr4zutbHGjXlYzeZ59Zg56MvdV7LG2HtPClpqVVt95G7dd/sHpreDXa/KW+Y+y5Q0icU7YzpOV3UnlK9nl0"
    "qBkdPrD/Pcvuw1LdwSUHKj9bK03qv/6P15uPUKcrDVlXLmp7pnDUeoYLzvlV/eZItLFhtilMupG64XymuHjP16lB"
    "3XEv7wmOQmfmlSf8viEQvZ8T82lA8VT0n5INE3XLZ6HmWl2Ru6I/9aPV9Qez0yeiD+7aP1k6Vo9enPKHk//dFIjy"
    "U5YVFG5j0Ps/+vroyq4U1PjKzhntL05CKSfa3m13z0Oh1kntnVWXUjfffLPirfqPU58/enHJ/OPdqffeKJtxrjQM"
    "tRy7sqHEcyPVXn3vhX0dt1NP7th8Yoz4EjpYvn/qzJLxqK+39k/J0bPQqjvbV33TugCV9rx2a69rOppZdXLFuBUL"
    "Kc/U7kzoJM8irY48TvBmXG/a9n8wZEwYoTIsFzDPBlhjg8I1GYpeC9ybAJNy4d4K/Y3E/m8StDbgSwZssRAfcIlE"
    "a7uPNwFjYgPVfzxohrNpb6kj/9bet9fDvyHQfMoB/kY4mo9Q8d308pHH+TS/cmiOxx2v4v+zPLLqCJ1mVQ6flSWm"
    "kHrKTXJt9vC4iOZTDkhroLCcoOJLD2Lo41KaWTmEVA4XFdKpmCODmQFHkjS3crClnFgppB46JJShj7kGuKjmQrWy"
    "l6JQmFpfeSbeyoxmUz5Q7sIHyBMqtj8+w6g+V2hOpUDHhhqn4uybyJDlOs2oFMHroLxVB8WRZxmNkpjmV+pPpahU"
    "6CkV//rnGK1qlBag5E8cGmovhUYyA7Ipza1gvDb3jsnMAMSnuRUcuo8yA8Jy3lSGQKWsRcEhzP0QnMC8JStapJQH"
    "zP8AxCAIYw=="
)
REGRESSOR = (
    "eNrNWQ1QVFUUfmiIYAShiTY6IdmgCcTC8me0txxHx9AClVIb5/HYfbAby+7y3lsM8Sf7GU0dp8zMv6lM0+yXSsUc"
    "bZGooanRppEssmbSGmUApcYcsya7T8/F8y5vCaQ238yZ+37uOfecc8/57nn3FuQPvCFFuHKNEZ69/+Afl+CKEoYJ"
    "pV6lQtJSPb7qMCFW2A39WPv8A0UzCuaGCVVCTZJDVu1K0sSEpLwiS0ZSckISZdUUySN6FYesf5giuVWZvledkk+m"
    "z+PGJycsTujPFVVKdZAoqZQ0ShWU3JR8lFLg2UvJQUmGbwUGe7/du/80szeuy16xSlZUl9fD7F4B/Vf0aLcrJzRm"
    "J0QNBD2MtpwJtzqZLdHUFlnVXNQYr8LMqIWutf8wfekhmr4ZVIfpuhmUZsIUlVFS4F4F8sI7o7nuFRnncKj6JEWq"
    "UJmtI8Ku9GOtua2lvZsyS25yP62Nkg6ta/haO0KebPmurrzyu0Bd2O2XrEVtgZrW5fd95m8PPJ+p1uU9dIIMP3zz"
    "UjHzNDk2//vS7dOaSGfzqR15n7eQ52bNDB/y6fvkF98Tr9lWtZI7/PGzm9aeILM/X7r5YG1H4N0zDcL9E1oDxcvW"
    "7D41qZ3U/nTkdHjEPjJ5T/quiI6fSMpN9k+2NrcFFp3Z7gyvbyFf7Z/zlvvnHwJGn4778+6VzKcx1KduqVpWRNW1"
    "UO5y7AbovOHfyIWM/vo1IeoG0IPlRJhpbtSNXdzJDIulhkmK3enSZLvmV2RmWT2w1vcYMkU5aSFKjxqqQyIgnB0Q"
    "zkWpCt6xZz09PNB3IqUEuFcQ6vnhXTL67oX3GiAmuxf7MaYLoa0H9dfbahMd3CCLpTovT39XCbpJyCYH6CnDOwXB"
    "hM63uFsEHGo9sBGHtrPaJytGzPhz8JXOrA0SAJnW0Kxv/3kASGi5dMIzlpFGKRVaRhZORgnSxQ5yRJg4XbeFoAOW"
    "awFZvBwZ5EggwxJEn9xe8Kb3wJtrIsOBgtRnorN+X4oCltmcRclq4lsZBawb5IqoVPHCOD7wkwfWPjxmKZojFWTy"
    "Y/iQr91BYsECfVPADzmcHCdKXJy8IsiUQH+WbGbzyyfvI5QyKM3nxmK2uhDYqBA7zFa5hzi0mAAI9rWH86cI79l8"
    "mc2rHflNRXHEACzxXxhTNLG9p1yzhAgo8RgVwPsY0ldDvHjMdBNeL7QY/P3wrjd57AkyrgjfvHBvR3jFfN4bjPGg"
    "WMXyvYCpKsjviy0ayPCb5KcP5CzgbAk295kcv4JsdCCdRC5OtSA5k8zFhxP0LEVYJvfBHlaLu8FfZnHB1hUHtBUm"
    "caYhOX1db6oQTrjQOPxaKIKNisn6aYaRbGyz8ZidJSgH5T5i9QKUl2ZzqJjERW9kymBTGcyv1gusSYT+boQFXtSv"
    "e/E0KXudgxVPkbR4UjVJ66qb90EJztogZVN6dlpoyyYcBjIKEz/3i4ndJXKusvYBonqCR82kT45JmvIwz+CO6VyF"
    "lhN+uWUhnAVLrwX0sAK0ZENrBcoCHbI5KMZy0oEs0A/fWzmZrG+OybJfwkGvGMRWs5Tsjx7XCh0qKgv4WME6emBu"
    "3ED/ZHN/dejL+Pyy6QLo8XHLnmyy1IlobD9XCgVbYkI9ny5UspQh/6ioPPD10m/dIW/n3MrbGeTdSCGvQtYkh6RJ"
    "fdsTLEoP1Z5gjakVP7f/1cKsGEqt8Po0V4Vrob6pgyE8D3ZPWBtsZzA7M7QQXo6g2XENlcb/Van354+kN/IVDiKc"
    "qNr3B6nsruVPR0ZVLBtH7aF6kU3myWwp5JfB62knoD9/1d0TsGN6zUq88Xg1Aa/fvWpr6thn8hc1kgH3xk3K9xYH"
    "2j7eeLFh8jzyYeq59QOGvhx4tm35cfs7O0hVcesE25anSWJb1XIh8SOyf3D0qD2Tt5Ilj6Y222OqSdHFKVNPHt9L"
    "iisvRMyYuooMT9w8QnpQI0MuRK6bk3gssGDTLkuOvI5MfLozbbW9lhybtuftaSlNpMF3217XXa+So7PvufXOQU8Q"
    "qfDRDy6uPcztVW8b/TAx92zVdevZpz5bs+T19qlk1cXVh3be+aOtsaS98/uYF20vPXh4+JKlEeSNs1lzjuTEkvU1"
    "5wf9PqLJFnhl6az5v91N4l0RY87/GE1OHygbPHHhB7ZNy8bvjF+bSsrvHTmydfQQIiodN+XE7bKdrZ+y8YVt5WT1"
    "yi0PNW751Va8peQlT/koMiGvM2buFwXk250na4YdjSWNX28qtDV/bCsufM9ReHQeMXr2wpjjk/DJisNVJqtdh4Bd"
    "O+w9b5NnhOoUKRNy3Qo5yf78GQZnwb0dSopc+J6Bdu9YyZwNeZwLvw0WVJrYAV9YSZ0B8gvywwakDDQeoe6GQ9Io"
    "4er1+GV/XT1Q5fn0o8gVUFDEGfg6u/jwwSTPrx//1cLpXrSB/wAd2XAYyLPqR2l6iuhkVPnNAQI6WOP59OOiDXAW"
    "FGPgu0QLCe7wiGfWj2T0oxadYg3M39AfSf6AhufWt/P1fXqdjEO3DBL4zX2eWf+d1f9WdYo0MMdTTboqI55NLwnZ"
    "DN1oYIu6RTAUiDynXobptZVOQw2cX1JOk6KMF6AvI2yGjM4qHCl0W1R4bh0qzbnfvFXoBpw8tw4Hl5O9W3SEjxIQ"
    "OBTkhw8SLgdftBBJDb1vtP70N+KQGno="
)
CLASSIFIER_PROBA = (
    "eNqdkP0z2wcAh9GODVeiZV5WNTK0o6uGeunOp0xRpDqEVtPh0CqbapQ5DpdSx7y0C9OoYigtHXX1/ppE6Kh5T1Ji"
    "qXyTUCbHdpeu2t1m9i/s+e15fnxKz9Ko5y6oq6WqZdjExCZHM2zcLGw+v+xiY2dhc/ka4wYjKjHiGiMm9r/uHfV1"
    "cuxuT46LSorddVvHY3YWlMN2FpkW/xdt5/uvT8acGgX/lnXrdeoMSKFbJkcLZIjkI4JpOQLJgTZDingWvXvPH/TW"
    "lmHV/EV1nh4P5M7+npK6CfztZ9acPq9AZ5m3/VXfQUTl0BNetwnRt/GInJZFgMOwN+6N5sMoIj0xbe8cRpO7bwrJ"
    "MhTEZcwGxPaDcubiTfUSEWibdQ9oAQQ0TdmOnXFduDQkty1rFoN88s8C9/5l+Ac53NtXMQLjT4P3O5rOQmb4PLAu"
    "QAaN/aLciuohrN6O57arpvGwwm9556gCAeu6LFY/DwuZeuTaqhkMa6aM+3nKQanMDGrr4OGQxujpfKd5kI2zxvS2"
    "CaSRKzW+PT8Cc21NX1btNC52hLVkqstRbmDYd9VhAGf0Gx/9bDCDAlq8KjFJgStPdJRTVlz4l4oFSwkCMJ/fDjfn"
    "EdD10iz1Yw1j9N0DdGVNwP8YbYKToUB20dZGlWQIdm60f75TFyL8ehg/r56AlS5deaWQB09aIky35xE657BiXEvA"
    "eo1jyizqwNPTRjqtzmJYST96wQ6SYnSwt298Yxj15UorkuEUVuNDfcc5cpDIVIL9ig+vmN91PfbNYjHX0eNtlgyV"
    "v7qmJmoN4o9NjZm1SSFUAc7jB9MI/FKU56QM4eFpsTFNq0kElaGBr0eoFPbzRdTWMB5Eruk6WW6LKKdzJptNXkKi"
    "bCh17eXizqGVO/TOReys+zRobkqw6vIktVC++3n9R9YHtSKIB/ZcYJ+QIr9RQdK/14l4hZaT7t1FvEuD3JkphXuN"
    "ZVLeEQ4UpR8q2t4IYSPb4ojMCRid883Yc7cPJ+Lzx5LDJpG0dKPaM2wFTU7dbo0h3eh6f3stp2oBWwfsvZqeSRGZ"
    "YN3C+YKDcJKLXbNIgFeHoTr+E4FvyjvuL1C5oGwOkCTeAvhHqwLNxglwzwomlJGD4GkIjfWL5zGmMg0PL5bhLzdb"
    "b08TDi6p0d/SIwVgbBe5NSkJBI9mU8TvjaBz1UuSw57Fl5WZuT7HZZjm38roiufjh7L6sKGdWfBGApySP5Hh48Co"
    "N6W5PFCyq3q86mZQo1xo6KHKMdn+lQnb4xket80zUgJn0J3ufmrZRwanuMA4x5QRUOnfp9foT2J5ykersFqO6e3g"
    "Dn0zHhyMmD5LlnNoTz3y2dRDGfJ/K37JCuGipYMpZHsJoPm4UlIyRuBf1zD2bA=="
)
REGRESSOR_PREDICTIONS = (
    "eNqb7BfqGxDJyFDGUK2eklqcXKRupaBuk2ahrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RomBjqaOgq1"
    "CuQDrgQPx7Jk5Xf7L8VsC5jI/nH/Uk+L1LOKD/a/bTuYXL7n6/4+RvEE37aP+yv+6RvvOvBt/wu73Er5Iz/2L3oi"
    "57Ej6MP+SUecnvzqeL4/TfhlSmnfi/0cqWk/lr77tF/o41EVv+zX+3mXmUQsOv1o/7cnjMs1g77sf3V+86YTRg/3"
    "d0YUmjSyf92/bN7zmEk8n/eLLee3P7f91/6IH9Fhtj+f7T+ieZJ1yczn+3N1wnfJPf66f4Hrvk/XRT7uvxNXvmtn"
    "3Ov9BaeU9QsCH+/vmtkeEFHycD/P6dm3mtl/7T+zXUItt+DL/mvBBT8Xpz/Yf2KeN8eGrz/298Y8ZNQ48mU/o9aN"
    "taYaX/ZvaK06/FL00/4vDZM3uf/9vH/bEU3tDNaP+3+kHTz3r+LjfunFPEmynG/2b+59ql5+8t1+mS+SciKWz/bb"
    "GWbZiXh+2K9kbvKnXfbLfgCSVtEb"
)
